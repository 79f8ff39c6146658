"""Known answers for the for_you pieces: adoption trending, group affinity, the blend's
ages, explanations and its stored state (what serving restores)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from shopkeeper.errors import Invalid
from shopkeeper.recsys.affinity import AffinityConfig, GroupAffinity, group_codes
from shopkeeper.recsys.base import Query
from shopkeeper.recsys.blend import REPEAT, Blend, BlendConfig, _maximum
from shopkeeper.recsys.content import ContentRecommender, ItemContent
from shopkeeper.recsys.ease import Ease, EaseConfig
from shopkeeper.recsys.for_you import ForYouConfig, for_you_blend
from shopkeeper.recsys.interactions import Interactions
from shopkeeper.recsys.popularity import Popularity, PopularityConfig
from tests.recsys.conftest import GROUP_SIZE, MODELS, checkerboard, content

DAY = 86_400.0


def shop() -> Interactions:
    """Three customers, four items; ``c`` first bought ``tea`` long ago and again lately."""
    return Interactions.from_events(
        ["a", "a", "b", "c", "c", "c"],
        ["tea", "mug", "tea", "tea", "cake", "tea"],
        [9 * DAY, 9 * DAY, 10 * DAY, 0.0, 8 * DAY, 10 * DAY],
        baskets=["o1", "o1", "o2", "o3", "o4", "o5"],
        item_catalogue=["jam"],
    )


def test_interactions_keep_first_and_latest_purchase() -> None:
    x = shop()
    assert x.item_ids == ("cake", "jam", "mug", "tea")
    c = x.user_index["c"]
    items, counts = x.history(c)
    lo = x.matrix.indptr[c]
    cells = dict(zip(items.tolist(), range(lo, lo + items.size), strict=True))
    tea = x.item_index["tea"]
    assert counts[items.tolist().index(tea)] == 2
    assert x.first_seen[cells[tea]] == 0.0
    assert x.last_seen[cells[tea]] == 10 * DAY


def test_adoption_trending_dates_each_buyer_by_their_first_purchase() -> None:
    x = shop()
    latest = Popularity(PopularityConfig(half_life_days=1.0)).fit(x).item_scores
    first = Popularity(PopularityConfig(half_life_days=1.0, since="first")).fit(x).item_scores
    tea, mug, cake = (x.item_index[i] for i in ("tea", "mug", "cake"))
    # tea: a (1 day old), b (today), c (re-bought today; first bought 10 days ago)
    assert latest[tea] == pytest.approx(0.5 + 1 + 1)
    assert first[tea] == pytest.approx(0.5 + 1 + 2**-10)
    assert first[mug] == latest[mug] == pytest.approx(0.5)
    assert first[cake] == pytest.approx(0.25)
    with pytest.raises(Invalid):
        PopularityConfig(since="never")  # type: ignore[arg-type]


def test_group_codes_ignore_case_and_missing_values() -> None:
    catalogue = {
        "a": ItemContent(category="Tea", price_tier="mid"),
        "b": ItemContent(category="tea"),
        "c": ItemContent(category="Cake", price_tier=" "),
    }
    codes = group_codes(("a", "b", "c", "d"), catalogue, ("category", "price_tier"))
    assert codes.tolist() == [[0, 0, 1, -1], [0, -1, -1, -1]]


def test_group_affinity_known_answer() -> None:
    # Two categories; the customer bought two drinks and one food item.
    x = Interactions.from_events(
        ["u", "u", "u", "v", "w"],
        ["tea", "coffee", "cake", "cake", "tea"],
        [0.0] * 5,
        baskets=["1", "1", "1", "2", "3"],
    )
    catalogue = {
        "tea": ItemContent(category="drinks"),
        "coffee": ItemContent(category="drinks"),
        "cake": ItemContent(category="food"),
    }
    model = GroupAffinity(catalogue, AffinityConfig(fields=("category",), prior=1.0))
    model.fit(x)
    # buyers: cake 2, coffee 1, tea 2 → shares drinks 3/5, food 2/5
    drinks, food = 3 / 5, 2 / 5
    lift_drinks = ((2 + drinks) / (3 + 1)) / drinks
    lift_food = ((1 + food) / (3 + 1)) / food
    scores = model._scores(model.query(np.array([x.user_index["u"]])))[0]
    popularity = {"cake": 2.0, "coffee": 1.0, "tea": 2.0}  # half-life 14 days, all bought "now"
    expected = {
        "cake": popularity["cake"] * lift_food,
        "coffee": popularity["coffee"] * lift_drinks,
        "tea": popularity["tea"] * lift_drinks,
    }
    for item, value in expected.items():
        assert scores[x.item_index[item]] == pytest.approx(value)
    # a customer with no history gets popularity (every lift 1)
    empty = model._scores(model.query(sp.csr_matrix((1, 3))))[0]
    np.testing.assert_allclose(empty, [2.0, 1.0, 2.0])


def test_group_affinity_without_catalogue_fields_says_nothing() -> None:
    model = GroupAffinity({}).fit(shop())
    assert not model._scores(model.query(np.array([0, 1])))[0].any()
    with pytest.raises(Invalid):
        AffinityConfig(fields=("colour",))


def test_blend_decays_history_by_age_from_the_query() -> None:
    board = checkerboard()
    blend = Blend(
        {"ease": Ease(EaseConfig(l2=5.0))},
        BlendConfig(repeat_weight=0.0, recency_half_life_days=10.0),
    ).fit(board)
    user = 3
    fitted = blend._scores(blend.query(np.array([user])))
    # the same user as a bare history with ages: the serving path
    history = board.matrix[user]
    ages = board.now - board.last_seen[board.matrix.indptr[user] : board.matrix.indptr[user + 1]]
    as_history = Query(np.array([-1]), history, board, age_days=ages / DAY)
    np.testing.assert_allclose(blend._scores(as_history), fitted)
    # without ages nothing decays: a different (binary) history
    bare = Query(np.array([-1]), history, board)
    assert not np.allclose(blend._scores(bare), fitted)


def test_stored_state_restores_the_same_blend() -> None:
    board = checkerboard()
    config = ForYouConfig(ease_l2=5.0)
    fitted = for_you_blend(config, content(), board.shape[1]).fit(board)
    state = fitted.state()
    assert {"ease.weights", "content.features", "trending.item_scores", REPEAT + ".propensity"} <= (
        set(state)
    )
    restored = for_you_blend(config, {}, board.shape[1]).restore(board.item_ids, state)
    assert restored.interactions.shape == (0, board.shape[1])
    for user in range(board.shape[0]):
        query = fitted.query(np.array([user]))
        served = Query(
            np.array([-1]), query.history, restored.interactions, age_days=query.age_days
        )
        np.testing.assert_allclose(restored._scores(served), fitted._scores(query))
        session = sp.csr_matrix(([2.0], ([0], [(user // 12) * GROUP_SIZE])), shape=(1, 20))
        np.testing.assert_allclose(
            restored.total(served, restored.parts(served, session)),
            fitted.total(query, fitted.parts(query, session)),
        )


def test_for_you_config_round_trips() -> None:
    config = ForYouConfig(repeat_weight=1.0, affinity=AffinityConfig(fields=("brand",)))
    assert ForYouConfig.from_dict(config.to_dict()) == config
    with pytest.raises(Invalid):
        ForYouConfig(weights={"ease": 1.0, "als": 1.0})


def test_because_names_the_lending_history_item_or_the_largest_term() -> None:
    x = Interactions.from_events(
        ["a", "a", "b", "b", "c"],
        ["teapot", "mug", "teapot", "mug", "cake"],
        [0.0] * 5,
        baskets=["1", "1", "2", "2", "3"],
    )
    catalogue = {i: ItemContent(title=i) for i in x.item_ids}
    blend = Blend(
        {"content": ContentRecommender(catalogue), "trending": Popularity()},
        BlendConfig({"content": 1.0, "trending": 1.0}, repeat_weight=0.0),
    ).fit(x)
    teapot, mug, cake = (x.item_index[i] for i in ("teapot", "mug", "cake"))
    # someone who looked at a teapot only: titles share nothing, so content lends nothing
    # and popularity explains every item
    history = sp.csr_matrix(([1.0], ([0], [teapot])), shape=(1, 3))
    query = Query(np.array([-1]), history, x)
    parts = blend.parts(query)
    assert blend.because(query, [mug, cake], parts) == [("trending", None), ("trending", None)]
    # the teapot itself: its own content match is never its own reason
    assert blend.because(query, [teapot], parts) == [("trending", None)]


def test_because_prefers_concrete_evidence() -> None:
    x = Interactions.from_events(
        ["a", "a", "b", "b", "c"],
        ["tea-green", "tea-black", "tea-green", "tea-black", "cake"],
        [0.0] * 5,
        baskets=["1", "1", "2", "2", "3"],
    )
    catalogue = {i: ItemContent(title=i.replace("-", " ")) for i in x.item_ids}
    blend = Blend(
        {"content": ContentRecommender(catalogue), "trending": Popularity()},
        BlendConfig({"content": 1.0, "trending": 1.0}, repeat_weight=0.0),
    ).fit(x)
    green, black, cake = (x.item_index[i] for i in ("tea-green", "tea-black", "cake"))
    history = sp.csr_matrix(([1.0], ([0], [green])), shape=(1, 3))
    query = Query(np.array([-1]), history, x)
    parts = blend.parts(query)
    # black tea: content lends 0.30 (the shared word "tea"; the history's own item scores 1),
    # trending 1 — a share of 0.23 for the neighbours
    assert parts["content"][0, black] == pytest.approx(0.30, abs=0.01)
    assert blend.because(query, [black, cake], parts) == [("trending", None), ("trending", None)]
    lenient = blend.because(query, [black, cake], parts, neighbour_share=0.2)
    assert lenient == [("content", green), ("trending", None)]


@pytest.mark.parametrize("name", sorted(n for n, make in MODELS.items() if make().by_neighbours))
def test_similarity_blocks_match_similar_rows(name: str) -> None:
    board = checkerboard()
    model = MODELS[name]().fit(board)
    rows, columns = np.array([0, 3, 12]), np.array([1, 5, 14])
    block = model._similar_block(rows, columns)
    expected = np.stack([model._similar(int(r))[columns] for r in rows])
    np.testing.assert_allclose(block, expected, atol=1e-12)


def test_session_weights_merge_by_maximum() -> None:
    a = sp.csr_matrix(np.array([[0.5, 0.0, 1.0], [0.0, 0.2, 0.0]]))
    b = sp.csr_matrix(np.array([[2.0, 0.0, 0.3], [0.0, 0.0, 0.7]]))
    merged = _maximum(a, b)
    np.testing.assert_array_equal(merged.toarray(), [[2.0, 0.0, 1.0], [0.0, 0.2, 0.7]])
    assert merged.has_sorted_indices


def _because_one_by_one(
    blend: Blend, history: sp.csr_matrix, parts: dict[str, np.ndarray], item: int, share: float
) -> tuple[str, int | None]:
    """The definition of :meth:`Blend.because`, item by item, as it read before explanations
    were batched: the reference the batched explainer must agree with."""
    values = {name: float(part[0, item]) for name, part in parts.items()}
    neighbours = [n for n in parts if n in blend.components and blend.components[n].by_neighbours]
    total = sum(max(v, 0.0) for v in values.values())
    near = sum(max(values[n], 0.0) for n in neighbours)
    if history.nnz and total > 0 and near >= share * total:
        by_source = np.zeros(history.nnz)
        for name in neighbours:
            if values[name] <= 0:
                continue
            rows = history.indices
            similar = blend.components[name]._similar_block(rows, np.array([item]))[:, 0]
            lent = np.where(rows == item, 0.0, history.data * similar)
            if lent.sum() > 0:
                by_source += lent * values[name] / lent.sum()
        if (by_source > 0).any():
            source = int(history.indices[int(np.argmax(by_source))])
            return max(neighbours, key=lambda n: values[n]), source
    others = {n: v for n, v in values.items() if n not in neighbours} or values
    return max(others, key=lambda n: others[n]), None


@pytest.mark.parametrize("seed", range(5))
def test_batched_explanations_agree_with_the_item_by_item_definition(seed: int) -> None:
    board = checkerboard()
    blend = for_you_blend(ForYouConfig(), content(), board.shape[1]).fit(board)
    rng = np.random.default_rng(seed)
    n_items = len(board.item_ids)
    for share in (1 / 3, 0.1):
        bought = rng.choice(n_items, size=int(rng.integers(1, 8)), replace=False)
        history = sp.csr_matrix(
            (rng.uniform(0.2, 2.0, bought.size), (np.zeros(bought.size, int), bought)),
            shape=(1, n_items),
        )
        ages = rng.uniform(0, 200, history.nnz)
        query = Query(np.array([-1]), history, board, age_days=ages)
        inner = blend.component_query(query)
        parts = blend.parts(query, inner=inner)
        items = [int(i) for i in rng.choice(n_items, size=12, replace=False)]
        batched = blend.because(query, items, parts, neighbour_share=share)
        reference = [
            _because_one_by_one(blend, inner.indicator(), parts, item, share) for item in items
        ]
        assert batched == reference
