"""Basket association and the basket-completion test, on baskets small enough to do by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from shopkeeper.errors import Invalid
from shopkeeper.recsys.baskets import (
    association,
    basket_matrix,
    co_counts,
    complete,
    hide_one,
    hit_rate_mrr,
)

# Six baskets over four items: tea (0) and mug (1) go together; bread (2) is in every other
# basket, so it co-occurs with everything by popularity alone; jam (3) once, with bread.
#   b0 {tea, mug}  b1 {tea, mug}  b2 {tea, mug, bread}  b3 {bread}  b4 {bread, jam}  b5 {bread}
BASKETS = basket_matrix(
    [0, 0, 1, 1, 2, 2, 2, 3, 4, 4, 5, 5],
    [0, 1, 0, 1, 0, 1, 2, 2, 2, 3, 2, 2],  # b5 lists bread twice: held once
    n_items=4,
)


def test_basket_matrix_is_binary() -> None:
    assert BASKETS.shape == (6, 4)
    assert BASKETS.toarray()[5].tolist() == [0, 0, 1, 0]


def test_co_counts() -> None:
    counts = co_counts(BASKETS).toarray()
    assert counts[0].tolist() == [0, 3, 1, 0]  # tea shares 3 baskets with mug, 1 with bread
    assert counts[2].tolist() == [1, 1, 0, 1]


def test_association_keeps_lift_above_one() -> None:
    # tea→mug: support 3, lift 3·6/(3·3) = 2, confidence 3/3 = 1.
    # tea→bread: support 1 < 2 dropped; with min_support 1 lift 1·6/(3·4) = 0.5 < 1 still dropped.
    # bread→jam: support 1, lift 1·6/(4·1) = 1.5 > 1, confidence 1/4 — kept only at min_support 1.
    strict = association(BASKETS, min_support=2, measure="confidence").toarray()
    assert strict[0].tolist() == [0, 1, 0, 0]
    assert strict[2].tolist() == [0, 0, 0, 0]
    loose = association(BASKETS, min_support=1, measure="confidence").toarray()
    assert loose[2].tolist() == [0, 0, 0, 0.25]
    assert loose[3].tolist() == [0, 0, 1, 0]  # jam→bread: 1/1
    # Cosine: the same pairs, scored 3/sqrt(3·3) = 1 and 1/sqrt(4·1) = 0.5 both ways.
    cosine = association(BASKETS, min_support=1).toarray()
    assert cosine[0].tolist() == [0, 1, 0, 0]
    assert cosine[2].tolist() == [0, 0, 0, 0.5]
    assert cosine[3].tolist() == [0, 0, 0.5, 0]
    with pytest.raises(Invalid):
        association(BASKETS, min_support=0)
    with pytest.raises(Invalid):
        association(BASKETS, measure="jaccard")  # type: ignore[arg-type]


def test_hide_one_takes_baskets_of_two_or_more() -> None:
    test = hide_one(BASKETS, np.random.default_rng(0))
    assert len(test) == 4  # b0, b1, b2, b4
    queries = test.queries.toarray()
    originals = BASKETS.toarray()[[0, 1, 2, 4]]
    for row, hidden in enumerate(test.hidden):
        assert originals[row, hidden] == 1
        assert queries[row, hidden] == 0
        assert queries[row].sum() == originals[row].sum() - 1


def test_complete_and_score_known_answer() -> None:
    # Queries: {tea} hiding mug, {bread} hiding jam, {mug} hiding bread.
    queries = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]], float))
    hidden = np.array([1, 3, 2])
    counts = co_counts(BASKETS)
    # Raw co-counts: tea → [mug 3, bread 1]; bread → [tea, mug, jam all 1: ties by index];
    # mug → [tea 3, bread 1].
    ranked = complete(counts, queries, k=2)
    assert ranked.tolist() == [[1, 2], [0, 1], [0, 2]]
    # Hits: mug at 1, jam missing from the top 2, bread at 2 → HitRate 2/3, MRR (1 + 0 + 1/2)/3.
    hit, mrr = hit_rate_mrr(ranked, hidden)
    assert hit == pytest.approx(2 / 3)
    assert mrr == pytest.approx(0.5)
    # Association (min_support 1) has no evidence for mug → bread: padded, never the query item.
    ranked = complete(association(BASKETS, min_support=1, measure="confidence"), queries, k=2)
    assert ranked.tolist() == [[1, -1], [3, -1], [0, -1]]
    assert hit_rate_mrr(ranked, hidden) == pytest.approx((2 / 3, 2 / 3))


def test_no_tests_gives_nan() -> None:
    hit, mrr = hit_rate_mrr(np.zeros((0, 10), np.int64), np.zeros(0, np.int64))
    assert np.isnan(hit)
    assert np.isnan(mrr)
