"""Advocacy score: known answers for the documented points, thresholds and value weighting."""

from __future__ import annotations

import numpy as np
import pytest

from shopkeeper.analytics import advocacy
from shopkeeper.errors import Invalid


def test_known_answers() -> None:
    counts = {
        "product_reviewed": [1, 3, 0, 0, 1, 0],
        "product_shared": [0, 0, 1, 1, 1, 0],
        "social_shared": [0, 0, 1, 1, 0, 0],
        "referral_sent": [0, 0, 0, 0, 0, 2],
        "page_viewed": [9, 9, 9, 9, 9, 9],  # not advocacy: ignored
    }
    orders = [1, 20, 1, 1, 1, 0]
    m = [5, 5, 1, 5, 2, 0]
    got = advocacy.score(counts, orders, m)
    assert got.actions.tolist() == [1, 3, 2, 2, 2, 2]
    assert got.points.tolist() == [1.0, 3.0, 5.0, 5.0, 3.0, 4.0]
    np.testing.assert_allclose(got.engagement, [1 / 4, 3 / 23, 5 / 4, 5 / 4, 3 / 4, 4 / 3])
    np.testing.assert_allclose(got.score[2:4], [5 / 4 * 0.6, 5 / 4 * 1.0])
    # one review: noise; a regular's 3 reviews in 20 orders: low engagement; a share posted to
    # social qualifies at any value; review + share is 3 points: too little; two referrals by
    # someone who never ordered: 4/3 engagement x 0.5 = 0.67.
    assert got.candidate.tolist() == [False, False, True, True, False, True]


def test_value_raises_the_score_but_is_no_gate() -> None:
    counts = {"product_shared": [2, 2], "product_reviewed": [0, 0]}
    low, high = advocacy.score(counts, [3, 3], [1, 5]).score
    assert high > low
    assert advocacy.score({"product_shared": [4]}, [2], [1]).candidate.tolist() == [True]


def test_rejects_misaligned_or_negative_inputs() -> None:
    with pytest.raises(Invalid):
        advocacy.score({"product_shared": [1, 2]}, [1], [1])
    with pytest.raises(Invalid):
        advocacy.score({}, [1], [6])
    with pytest.raises(Invalid):
        advocacy.score({"product_shared": [-1]}, [1], [1])
