"""The contract every model keeps: shapes, determinism, exclusions, k, empty users, checkerboard.

Parametrised over every model in ``conftest.MODELS``; a new model joins by adding one line
there. The checkerboard (as in ``implicit``'s test suite) has two user groups with disjoint
item sets: a personalised model may only ever recommend, or call similar, same-group items.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Recommender, ScoringRecommender
from shopkeeper.recsys.interactions import Interactions
from tests.recsys.conftest import GROUP_SIZE, USERS_PER_GROUP, group_of_item


def test_is_a_recommender(model: ScoringRecommender) -> None:
    assert isinstance(model, Recommender)


def test_recommend_shapes_and_order(model: ScoringRecommender) -> None:
    items, scores = model.recommend(0, 5)
    assert items.dtype == np.int64
    assert scores.dtype == np.float64
    assert items.shape == scores.shape
    assert items.size <= 5
    assert np.unique(items).size == items.size
    assert np.all(np.diff(scores) <= 0)
    assert np.all(np.isfinite(scores))


def test_recommend_many_matches_recommend(model: ScoringRecommender) -> None:
    users = np.arange(2 * USERS_PER_GROUP)
    items, scores = model.recommend_many(users, 4, exclude_seen=True)
    assert items.shape == scores.shape == (users.size, 4)
    for user in (0, 5, 13):
        single, _ = model.recommend(user, 4, exclude_seen=True)
        row = items[user]
        assert row[row >= 0].tolist() == single.tolist()


def test_deterministic_for_a_seed(
    make_model: Callable[[], ScoringRecommender], board: Interactions
) -> None:
    first = make_model().fit(board).recommend_many(np.arange(board.shape[0]), 5)
    second = make_model().fit(board).recommend_many(np.arange(board.shape[0]), 5)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_allclose(first[1], second[1])


def test_excludes_given_and_seen_items(model: ScoringRecommender, board: Interactions) -> None:
    top, _ = model.recommend(1, 3)
    if top.size:
        items, _ = model.recommend(1, 3, exclude=top[:1])
        assert top[0] not in items
    seen, _ = board.history(1)
    items, _ = model.recommend(1, 20, exclude_seen=True)
    assert not set(items.tolist()) & set(seen.tolist())


def test_k_handling(model: ScoringRecommender, board: Interactions) -> None:
    assert model.recommend(0, 0)[0].size == 0
    items, _ = model.recommend(0, 1_000)
    assert items.size <= board.shape[1]
    assert np.unique(items).size == items.size
    many, _ = model.recommend_many(np.array([0, 1]), 1_000)
    assert many.shape == (2, 1_000)
    assert (many[:, board.shape[1] :] == -1).all()
    with pytest.raises(Invalid):
        model.recommend(0, -1)
    with pytest.raises(Invalid):
        model.recommend(board.shape[0], 3)


def test_history_vectors_and_empty_users(model: ScoringRecommender, board: Interactions) -> None:
    empty, _ = model.recommend(np.zeros(board.shape[1]), 5)
    assert empty.size <= 5
    batch, _ = model.recommend_many(sp.csr_matrix((3, board.shape[1])), 5)
    assert batch.shape == (3, 5)
    vector = np.zeros(board.shape[1])
    vector[[0, 1]] = 1.0
    items, scores = model.recommend(vector, 5, exclude_seen=True)
    assert not {0, 1} & set(items.tolist())
    assert np.all(np.isfinite(scores))
    with pytest.raises(Invalid):
        model.recommend(np.zeros(board.shape[1] + 1), 5)


def test_similar_items(model: ScoringRecommender, board: Interactions) -> None:
    items, scores = model.similar_items(3, 4)
    assert 3 not in items
    assert items.size <= 4
    assert np.all(np.diff(scores) <= 0)
    with pytest.raises(Invalid):
        model.similar_items(board.shape[1], 4)


def test_checkerboard(model: ScoringRecommender, board: Interactions) -> None:
    if not getattr(model, "personalised", True):
        pytest.skip("non-personal model: the same list for everyone by design")
    unseen_in_group = GROUP_SIZE - 6
    for user in range(board.shape[0]):
        group = user // USERS_PER_GROUP
        for k, exclude_seen in ((unseen_in_group, True), (GROUP_SIZE, False)):
            items, _ = model.recommend(user, k, exclude_seen=exclude_seen)
            assert all(group_of_item(i) == group for i in items), (user, items)
    for item in range(board.shape[1]):
        # The strongest half of the group: weaker in-group pairs may carry negative evidence
        # (EASE weights are signed) and rank below unrelated items, which is fair.
        similar, _ = model.similar_items(item, GROUP_SIZE // 2)
        assert all(group_of_item(i) == group_of_item(item) for i in similar), (item, similar)


def test_unfitted_model_refuses(make_model: Callable[[], ScoringRecommender]) -> None:
    with pytest.raises(Invalid):
        make_model().recommend(0, 3)
