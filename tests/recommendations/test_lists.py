"""Ranked lists: known answers for the precomputed placement structures (pure, no store)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from shopkeeper.recommendations.lists import RankedLists, ranked, ranked_groups, top_similar


def test_rows_are_sorted_best_first_ties_by_item() -> None:
    matrix = sp.csr_matrix([[0.0, 0.5, 0.5, 0.9], [0.0, 0.0, 0.0, 0.0], [0.3, 0.0, -1.0, 0.0]])
    lists = RankedLists.from_matrix(matrix)
    items, scores = lists.row(0)
    assert items.tolist() == [3, 1, 2]
    assert scores.tolist() == [0.9, 0.5, 0.5]
    assert lists.row(1)[0].tolist() == []
    assert lists.row(2)[0].tolist() == [0]  # negative scores are never proposed
    assert len(lists) == 3


def test_ranked_and_groups() -> None:
    scores = np.array([0.1, 0.0, 0.7, 0.7, 0.2, np.nan])
    items, values = ranked(scores)
    assert items.tolist() == [2, 3, 4, 0]
    assert values.tolist() == [0.7, 0.7, 0.2, 0.1]
    groups = ranked_groups(scores, np.array([0, 0, 1, 0, 1, 1]), 3)
    assert groups.row(0)[0].tolist() == [3, 0]
    assert groups.row(1)[0].tolist() == [2, 4]
    assert groups.row(2)[0].tolist() == []


def test_top_similar_blends_behaviour_and_keeps_the_best() -> None:
    features = sp.csr_matrix([[1.0, 0.0], [1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    boost = sp.csr_matrix(np.array([[0, 0, 0, 1.0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]))
    similar = top_similar(features, boost, weight=0.3, keep=2)
    row = similar[0].toarray().ravel()
    # item 0: itself 1.0 and item 1 at 1.0 are kept; item 2 (0.6) and item 3 (0 + 0.3) are cut
    assert np.flatnonzero(row).tolist() == [0, 1]
    row3 = similar[3].toarray().ravel()
    assert np.allclose(row3[[2, 3]], [0.8, 1.0])
    assert row3[[0, 1]].sum() == 0
    blocked = top_similar(features, boost, weight=0.3, keep=4)
    assert np.isclose(blocked[0, 3], 0.3)
