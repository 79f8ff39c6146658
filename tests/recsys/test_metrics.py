"""Metric known answers, worked by hand in the comments."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from shopkeeper.recsys import metrics

# User 0 gets [1, 2, 3] and bought {1, 3, 5}: hits at ranks 1 and 3.
# User 1 bought nothing after the cut: no score (nan), skipped by the means.
# User 2 gets [4, 0, pad] and bought {0}: a hit at rank 2.
RECOMMENDED = np.array([[1, 2, 3], [-1, -1, -1], [4, 0, -1]])
RELEVANT = sp.csr_matrix(
    (np.ones(4), ([0, 0, 0, 2], [1, 3, 5, 0])),
    shape=(3, 6),
)


def test_recall() -> None:
    values = metrics.recall(RECOMMENDED, RELEVANT)
    np.testing.assert_allclose(values, [2 / 3, np.nan, 1.0])
    assert metrics.mean(values) == pytest.approx((2 / 3 + 1) / 2)


def test_ndcg() -> None:
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; ideal for 3 relevant = 1 + 1/log2(3) + 1/2.
    user0 = 1.5 / (1 + 1 / math.log2(3) + 0.5)
    user2 = (1 / math.log2(3)) / 1.0
    np.testing.assert_allclose(metrics.ndcg(RECOMMENDED, RELEVANT), [user0, np.nan, user2])
    assert user0 == pytest.approx(0.703918, abs=1e-6)


def test_average_precision() -> None:
    # User 0: (P@1 + P@3) / min(3, 3) = (1 + 2/3) / 3; user 2: P@2 / 1 = 1/2.
    np.testing.assert_allclose(
        metrics.average_precision(RECOMMENDED, RELEVANT), [(1 + 2 / 3) / 3, np.nan, 0.5]
    )


def test_hit_rate() -> None:
    np.testing.assert_allclose(metrics.hit_rate(RECOMMENDED, RELEVANT), [1.0, np.nan, 1.0])
    miss = metrics.hit_rate(np.array([[2, 4]]), sp.csr_matrix(np.array([[1, 0, 0, 0, 0]])))
    np.testing.assert_allclose(miss, [0.0])


def test_perfect_list_scores_one() -> None:
    relevant = sp.csr_matrix(np.array([[0, 1, 1, 0]]))
    perfect = np.array([[2, 1, 0]])
    assert metrics.ndcg(perfect, relevant)[0] == pytest.approx(1.0)
    assert metrics.average_precision(perfect, relevant)[0] == pytest.approx(1.0)
    assert metrics.recall(perfect, relevant)[0] == pytest.approx(1.0)


def test_more_relevant_than_k_caps_the_ideal() -> None:
    # Five relevant, k = 2, both hits: NDCG and AP are 1 (the ideal uses min(|R|, k)); recall 2/5.
    relevant = sp.csr_matrix(np.ones((1, 5)))
    rec = np.array([[0, 1]])
    assert metrics.ndcg(rec, relevant)[0] == pytest.approx(1.0)
    assert metrics.average_precision(rec, relevant)[0] == pytest.approx(1.0)
    assert metrics.recall(rec, relevant)[0] == pytest.approx(0.4)


def test_coverage_novelty_and_popularity_bias() -> None:
    assert metrics.coverage(RECOMMENDED, 6) == pytest.approx(5 / 6)
    popularity = np.array([0.5, 0.25, 0.25, 0.125, 0.0, 0.5])
    # Shown: 1, 2, 3, 4, 0 -> p = .25, .25, .125, floor .125 (never bought), .5
    shown = np.array([0.25, 0.25, 0.125, 0.125, 0.5])
    assert metrics.novelty(RECOMMENDED, popularity) == pytest.approx(np.mean(-np.log2(shown)))
    assert metrics.popularity_bias(RECOMMENDED, popularity) == pytest.approx(
        np.mean([0.25, 0.25, 0.125, 0.0, 0.5])
    )
    assert math.isnan(metrics.novelty(np.full((1, 2), -1), popularity))
    assert math.isnan(metrics.mean(np.array([np.nan])))
