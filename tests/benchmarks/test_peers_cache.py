"""``--only ours``: the peers' rows cached beside the export, reused only on the same split;
and the item descriptions the harness hands the for_you blend come from before the cut."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from benchmarks.peers import cache
from benchmarks.recsys_eval import titles_before
from benchmarks.recsys_peers import BasketRow, Row

from shopkeeper.recsys.evaluate import Evaluation, TaskResult
from shopkeeper.recsys.split import EventLog, temporal_split

DAY = 86_400.0
LOG = EventLog.from_arrays(
    ["ann", "ann", "bob", "ann", "bob"],
    ["tea", "mug", "tea", "jam", "mug"],
    np.array([1, 1, 2, 11, 12]) * DAY,
    ["o1", "o1", "o2", "o3", "o4"],
)


def result(ndcg: float) -> TaskResult:
    return TaskResult(ndcg, 0.1, 0.2, 0.3, 0.4, 5.0, 0.01, 7, {"1": (3, ndcg), "2-4": (4, 0.5)})


def test_cached_rows_come_back_for_the_same_split_only(tmp_path) -> None:
    split = temporal_split(LOG, 10 * DAY)
    validation = temporal_split(LOG.before(10 * DAY), 2 * DAY)
    key = cache.split_key(split, validation)
    assert key == cache.split_key(temporal_split(LOG, 10 * DAY), validation)
    evaluation = Evaluation(1.5, 0.2, {"all": result(0.3), "new": result(0.1)}, 1.25)
    rows = [Row("SAR", "recommenders", "('jaccard', 90)", evaluation, {"a": 0.2}, {"all": 0.2})]
    basket = BasketRow("SAR", "recommenders", "jaccard", 0.28, 0.11, 1.5, 1.2, {"a": 0.3})
    cache.write(tmp_path, key, rows, [basket])

    back, baskets = cache.read(tmp_path, key, Row, BasketRow)
    assert back == rows
    assert baskets == [basket]
    other = cache.split_key(temporal_split(LOG, 11.5 * DAY), validation)
    with pytest.raises(SystemExit):
        cache.read(tmp_path, other, Row, BasketRow)
    with pytest.raises(SystemExit):
        cache.read(tmp_path / "nowhere", key, Row, BasketRow)


def test_titles_come_from_lines_before_the_cut() -> None:
    lines = pd.DataFrame(
        {
            "StockCode": ["A", "A", "A", "B", "B"],
            "Description": ["RED MUG", "RED MUG", "MUG RED", None, "LATE NAME"],
            "seconds": [1.0, 2.0, 3.0, 1.0, 20.0],
        }
    )
    titles = titles_before(lines, 10.0)
    assert {code: c.title for code, c in titles.items()} == {"A": "RED MUG"}
