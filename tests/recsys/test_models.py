"""Known answers for single models and the shared plumbing (top-k, interactions, split)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Query, top_k
from shopkeeper.recsys.blend import Blend, BlendConfig
from shopkeeper.recsys.content import ContentRecommender, ItemContent
from shopkeeper.recsys.cooccurrence import CooccurrenceConfig, ItemKNN, prune_rows
from shopkeeper.recsys.ease import Ease, EaseConfig
from shopkeeper.recsys.evaluate import evaluate, tenure_groups
from shopkeeper.recsys.interactions import Interactions
from shopkeeper.recsys.popularity import Popularity, PopularityConfig
from shopkeeper.recsys.repeat import BuyAgain, BuyAgainConfig, repeat_propensity
from shopkeeper.recsys.split import EventLog, temporal_split

DAY = 86_400.0


def test_interactions_count_baskets_and_keep_latest_time() -> None:
    x = Interactions.from_events(
        ["a", "a", "a", "b"],
        ["tea", "tea", "tea", "mug"],
        [1 * DAY, 1 * DAY, 5 * DAY, 2 * DAY],
        baskets=["o1", "o1", "o2", "o3"],
        item_catalogue=["new"],
    )
    assert x.item_ids == ("mug", "new", "tea")
    assert x.matrix.toarray().tolist() == [[0, 0, 2], [1, 0, 0]]  # o1's two lines count once
    assert x.last_seen.tolist() == [5 * DAY, 2 * DAY]
    assert x.baskets.tolist() == [2, 1]
    assert x.now == 5 * DAY
    assert x.decayed(4.0).toarray()[0, 2] == pytest.approx(2.0)  # age 0 at "now"
    assert x.decayed(3.0).toarray()[1, 0] == pytest.approx(0.5)  # 3 days old, 3-day half-life
    with pytest.raises(Invalid):
        Interactions.from_events(["a"], ["x", "y"])


def test_top_k_breaks_ties_by_index_and_pads() -> None:
    scores = np.array([[1.0, 3.0, 3.0, 3.0, -np.inf]])
    items, values = top_k(scores.copy(), 2)
    assert items.tolist() == [[1, 2]]
    items, values = top_k(scores.copy(), 6)
    assert items.tolist() == [[1, 2, 3, 0, -1, -1]]
    assert np.isneginf(values[0, 4:]).all()
    items, _ = top_k(scores.copy(), 2, sp.csr_matrix(np.array([[0, 1, 0, 0, 0]])))
    assert items.tolist() == [[2, 3]]


def test_ease_matches_per_column_ridge_regression() -> None:
    # diag(B) = 0 EASE is, column by column, a ridge regression of item j on the others.
    rng = np.random.default_rng(0)
    dense = (rng.random((30, 6)) < 0.4).astype(float)
    x = Interactions.from_indices(
        *np.nonzero(dense),
        np.zeros(int(dense.sum())),
        np.ones(int(dense.sum())),
        tuple("u" + str(n) for n in range(30)),
        tuple("abcdef"),
    )
    model = Ease(EaseConfig(l2=3.0)).fit(x)
    for j in range(6):
        others = [i for i in range(6) if i != j]
        a = dense[:, others]
        expected = np.linalg.solve(a.T @ a + 3.0 * np.eye(5), a.T @ dense[:, j])
        np.testing.assert_allclose(model.weights[others, j], expected, atol=1e-10)
        assert model.weights[j, j] == 0.0


def test_cooccurrence_known_answers() -> None:
    # Items 0 and 1 always together (2 users), item 2 with 0 once, item 3 alone. N = 4 users.
    dense = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]], dtype=float)
    x = Interactions.from_indices(
        *np.nonzero(dense), np.zeros(7), np.ones(7), ("a", "b", "c", "d"), ("0", "1", "2", "3")
    )
    cosine = ItemKNN(CooccurrenceConfig("cosine")).fit(x).similarity.toarray()
    assert cosine[0, 1] == pytest.approx(2 / np.sqrt(3 * 2))
    assert cosine[0, 3] == 0.0
    assert cosine[0, 0] == 0.0
    lift = ItemKNN(CooccurrenceConfig("lift")).fit(x).similarity.toarray()
    assert lift[1, 2] == pytest.approx(1 * 4 / (2 * 1))  # P(1,2) / P(1)P(2) = (1/4)/(2/4 · 1/4)
    supported = ItemKNN(CooccurrenceConfig("lift", min_support=2)).fit(x).similarity
    assert supported.toarray()[1, 2] == 0.0
    pruned = prune_rows(sp.csr_matrix(np.array([[0.0, 3, 1, 3]])), 2).toarray()
    assert pruned.tolist() == [[0, 3, 0, 3]]


def test_buy_again_and_trending_prefer_recent() -> None:
    x = Interactions.from_events(
        ["a", "a", "a", "b", "c", "d"],
        ["old", "old", "new", "new", "old", "old"],
        [0.0, 1 * DAY, 100 * DAY, 100 * DAY, 2 * DAY, 3 * DAY],
        baskets=["1", "2", "3", "4", "5", "6"],
    )
    by_count = BuyAgain(BuyAgainConfig(half_life_days=None)).fit(x).recommend(0, 2)[0]
    by_recency = BuyAgain(BuyAgainConfig(half_life_days=10)).fit(x).recommend(0, 2)[0]
    new, old = x.item_index["new"], x.item_index["old"]
    assert by_count.tolist() == [old, new]
    assert by_recency.tolist() == [new, old]
    assert Popularity().fit(x).recommend(2, 1)[0].tolist() == [old]  # 3 buyers against 2
    trending = Popularity(PopularityConfig(half_life_days=10)).fit(x)  # old ones decayed away
    assert trending.recommend(2, 1)[0].tolist() == [new]


def test_content_gives_new_products_neighbours() -> None:
    x = Interactions.from_events(["a"], ["p1"], item_catalogue=["p2", "p3"])
    content = {
        "p1": ItemContent(category="Home > Kitchen", brand="Acme", title="Steel kettle"),
        "p2": ItemContent(category="Home > Kitchen", brand="Acme", title="Steel teapot"),
        "p3": ItemContent(category="Garden", title="Hose"),
    }
    model = ContentRecommender(content).fit(x)
    items, _ = model.similar_items(x.item_index["p2"], 1)  # p2 was never bought
    assert items.tolist() == [x.item_index["p1"]]


def test_content_dense_similarity_answers_as_the_sparse_products(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x, content = checkerboard_content()
    dense = ContentRecommender(content).fit(x)
    monkeypatch.setattr("shopkeeper.recsys.content.DENSE_ITEMS", 0)  # a large catalogue
    sparse = ContentRecommender(content).fit(x)
    assert dense.similarity is not None
    assert sparse.similarity is None
    history = sp.csr_matrix(
        np.array([[1.0, 0.0, 0.5, 0.0, 0.0, 2.0], [0.0, 1.0, 0.0, 0.0, 1.0, 0.0]])
    )
    query = Query(np.array([-1, -1]), history, x)
    np.testing.assert_allclose(dense._scores(query), sparse._scores(query), atol=1e-12)
    rows, columns = np.array([0, 2, 5]), np.array([1, 3])
    np.testing.assert_allclose(
        dense._similar_block(rows, columns), sparse._similar_block(rows, columns), atol=1e-12
    )
    np.testing.assert_allclose(dense._similar(4), sparse._similar(4), atol=1e-12)


def checkerboard_content() -> tuple[Interactions, dict[str, ItemContent]]:
    """Six products sharing categories, brands and title words in overlapping patterns."""
    skus = [f"p{n}" for n in range(6)]
    x = Interactions.from_events(["a", "b"], ["p0", "p1"], item_catalogue=skus)
    content = {
        sku: ItemContent(
            category="Home > Kitchen" if n % 2 else "Garden",
            brand=("Acme", "Zenith", "Acme")[n % 3],
            title=("Steel kettle", "Teapot", "Hose", "Steel hose", "Pot", "Kettle")[n],
        )
        for n, sku in enumerate(skus)
    }
    return x, content


def test_blend_puts_repeat_purchases_first_when_weighted() -> None:
    x = Interactions.from_events(
        ["a", "a", "b", "b", "c"], ["x", "y", "x", "z", "z"], baskets=["1", "2", "3", "4", "5"]
    )
    blend = Blend({"knn": ItemKNN()}, BlendConfig(repeat_weight=10.0)).fit(x)
    items, _ = blend.recommend(x.user_index["c"], 2)
    assert items.tolist() == [x.item_index["z"], x.item_index["x"]]


def test_temporal_split_and_evaluation() -> None:
    # u1 and u2 buy before the cut (day 10) and again after; u3 only after; "fresh" is new.
    log = EventLog.from_arrays(
        ["u1", "u1", "u2", "u1", "u2", "u2", "u3"],
        ["a", "b", "a", "a", "b", "fresh", "a"],
        np.array([2, 1, 3, 11, 12, 12, 13]) * DAY,  # u1 bought "a" last
        ["o1", "o2", "o3", "o4", "o5", "o5", "o6"],
    )
    split = temporal_split(log, 10 * DAY)
    assert split.train.user_ids == ("u1", "u2")
    assert split.test_users.tolist() == [0, 1]
    assert split.truth.toarray().tolist() == [[1, 0], [0, 1]]  # "fresh" is not rankable
    assert split.unknown_item_share == pytest.approx(1 / 3)
    assert split.new_item_truth().toarray().tolist() == [[0, 0], [0, 1]]  # u2 never had "b"
    result = evaluate(BuyAgain(), split, k=2)
    assert result.tasks["all"].ndcg == pytest.approx(0.5)  # u1 rebuys "a": 1; u2: 0
    assert result.tasks["all"].users == 2
    assert result.tasks["all"].by_tenure == {"1": (1, 0.0), "2-4": (1, 1.0)}
    assert result.tasks["new"].users == 1
    assert result.tasks["new"].hit_rate == 0.0  # buy-again never proposes new items
    assert tenure_groups([1, 2, 4, 5, 12]) == ["1", "2-4", "2-4", "5-9", "10+"]
    with pytest.raises(Invalid):
        temporal_split(log, 0.0)


def test_repeat_propensity_known_answer() -> None:
    """Three buyers of tea, two of them in two baskets; one buyer of a vase, once.

    Shop share = 2 repeat pairs / 4 pairs = 0.5; with prior 2: tea (2 + 1) / (3 + 2) = 0.6,
    vase (0 + 1) / (1 + 2) = 1/3. Bought once each, tea outranks the vase for user c.
    """
    x = Interactions.from_events(
        ["a", "a", "b", "b", "c", "c"],
        ["tea", "tea", "tea", "tea", "tea", "vase"],
        [1.0, 2.0, 1.0, 2.0, 3.0, 1.0],
        baskets=["a1", "a2", "b1", "b2", "c1", "c2"],
    )
    np.testing.assert_allclose(repeat_propensity(x, 2.0), [0.6, 1 / 3])
    model = BuyAgain(BuyAgainConfig(half_life_days=None, propensity_prior=2.0)).fit(x)
    items, scores = model.recommend(x.user_index["c"], 2)
    assert [x.item_ids[i] for i in items] == ["tea", "vase"]
    np.testing.assert_allclose(scores, [0.6, 1 / 3])
    with pytest.raises(Invalid):
        BuyAgainConfig(propensity_prior=0.0)
