"""The peer protocol: a split exported to Parquet, lists and neighbours read back, basket tests.

Known answers on a tiny log. The peers themselves (their virtualenvs) are benchmark code and
never run in the test suite.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from benchmarks.peers.export import basket_data, export_phase, read_fit, read_lists, read_similar
from benchmarks.peers.runner_io import read_phase, top_rows, write_lists, write_similar

from shopkeeper.recsys.evaluate import score
from shopkeeper.recsys.split import EventLog, temporal_split

DAY = 86_400.0

# Before the cut (day 10): ann buys tea+mug (o1) then tea (o2); bob buys mug+jam (o3);
# cid buys jam (o4). After: ann buys jam+mug+cake (o5, cake is new); bob buys tea (o6);
# dan (new customer) buys tea+mug (o7).
LOG = EventLog.from_arrays(
    ["ann", "ann", "ann", "bob", "bob", "cid", "ann", "ann", "ann", "bob", "dan", "dan"],
    ["tea", "mug", "tea", "mug", "jam", "jam", "jam", "mug", "cake", "tea", "tea", "mug"],
    np.array([1, 1, 2, 3, 3, 4, 11, 11, 11, 12, 13, 13]) * DAY,
    ["o1", "o1", "o2", "o3", "o3", "o4", "o5", "o5", "o5", "o6", "o7", "o7"],
)
CUT = 10 * DAY


@pytest.fixture
def split():
    return temporal_split(LOG, CUT)


def test_export_writes_the_split_in_our_index_space(tmp_path, split) -> None:
    export_phase(LOG, split, CUT, tmp_path, k=3)
    # Our split: users ann, bob, cid (rows 0-2); items jam, mug, tea (columns 0-2).
    assert split.train.user_ids == ("ann", "bob", "cid")
    assert split.train.item_ids == ("jam", "mug", "tea")
    events = pd.read_parquet(tmp_path / "events.parquet")
    assert events["user"].tolist() == [0, 0, 0, 1, 1, 2]
    assert events["item"].tolist() == [2, 1, 2, 1, 0, 0]
    assert events["basket"].tolist() == [0, 0, 1, 2, 2, 3]  # after the cut: none exported
    assert pd.read_parquet(tmp_path / "users.parquet")["user"].tolist() == [0, 1]  # ann, bob
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta == {"n_users": 3, "n_items": 3, "now": CUT, "k": 3}
    phase = read_phase(tmp_path)
    # The runner's matrix counts baskets: ann bought tea in two.
    assert phase.matrix().toarray().tolist() == [[0, 1, 2], [1, 1, 0], [1, 0, 0]]
    assert phase.matrix("basket").shape == (4, 3)


def test_lists_round_trip_and_score_like_ours(tmp_path, split) -> None:
    # ann gets [jam, mug, -], bob [tea, -, -]: both lists hit at rank 1.
    lists = np.array([[0, 1, -1], [2, -1, -1]])
    write_lists(tmp_path / "all.parquet", lists)
    write_lists(tmp_path / "new.parquet", np.array([[0, -1, -1], [2, -1, -1]]))
    (tmp_path / "fit.json").write_text('{"setting": "1", "fit_seconds": 0.5}')
    back = read_lists(tmp_path, 2, 3)
    assert back["all"].tolist() == lists.tolist()
    assert read_fit(tmp_path)["fit_seconds"] == 0.5
    results = score(back, split)
    # ann's truth {jam, mug}: hits at 1 and 2 → NDCG 1; bob's {tea}: hit at 1 → 1.
    assert results["all"].ndcg == pytest.approx(1.0)
    # New items: ann had not bought jam (hit), bob had not bought tea (hit).
    assert results["new"].hit_rate == pytest.approx(1.0)


def test_similar_round_trip_drops_self_and_empty(tmp_path) -> None:
    items = np.array([[0, 1], [0, -1], [-1, -1]])
    scores = np.array([[9.0, 0.5], [0.25, -np.inf], [-np.inf, -np.inf]])
    write_similar(tmp_path / "similar.parquet", items, scores)
    matrix = read_similar(tmp_path, 3).toarray()
    assert matrix.tolist() == [[0, 0.5, 0], [0.25, 0, 0], [0, 0, 0]]


def test_top_rows_pads_missing_evidence() -> None:
    scores = np.array([[0.1, -np.inf, 0.3], [-np.inf, -np.inf, 2.0]])
    assert top_rows(scores, 2).tolist() == [[2, 0], [2, -1]]


def test_basket_data_drops_unknown_items_first(split) -> None:
    train, test = basket_data(LOG, split, CUT)
    assert train.toarray().tolist() == [[0, 1, 1], [0, 0, 1], [1, 1, 0], [1, 0, 0]]
    # After the cut: o5 {jam, mug} (cake unknown), o6 {tea} too small, o7 {mug, tea}.
    assert len(test) == 2
    queries = test.queries.toarray()
    for row, (basket, hidden) in enumerate(zip([{0, 1}, {1, 2}], test.hidden, strict=True)):
        assert hidden in basket
        assert set(np.flatnonzero(queries[row])) == basket - {hidden}
