"""Advocacy score: known answers for the documented points, thresholds and value weighting, and
the acceptance on simulated shops (planted influencers found on several seeds)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from shopkeeper.analytics import advocacy
from shopkeeper.errors import Invalid
from shopkeeper.events.kinds import ADVOCACY_KINDS

from .conftest import SimulatedShop, simulated_shop


def test_known_answers() -> None:
    counts = {
        "product_reviewed": [1, 3, 0, 0, 1, 0, 0],
        "product_shared": [0, 0, 1, 1, 1, 0, 3],
        "social_shared": [0, 0, 1, 1, 0, 0, 0],
        "referral_sent": [0, 0, 0, 0, 0, 3, 0],
        "page_viewed": [9, 9, 9, 9, 9, 9, 9],  # not advocacy: ignored
    }
    visits = [1, 20, 1, 1, 1, 0, 300]
    m = [5, 5, 1, 5, 2, 0, 1]
    got = advocacy.score(counts, visits, m)
    assert got.actions.tolist() == [1, 3, 2, 2, 2, 3, 3]
    assert got.points.tolist() == [1.0, 3.0, 5.0, 5.0, 3.0, 6.0, 6.0]
    np.testing.assert_allclose(got.engagement, [1 / 6, 3 / 25, 5 / 6, 5 / 6, 3 / 6, 6 / 5, 6 / 305])
    np.testing.assert_allclose(got.score[2:4], [5 / 6 * 0.6, 5 / 6 * 1.0])
    # one review: noise; a regular's 3 reviews in 20 visits: low engagement; a share posted to
    # social qualifies at any value; review + share is 3 points: too little; three referrals by
    # someone who never ordered or came by: 6/5 engagement x 0.5 = 0.6; three shares in 300
    # visits: a browser, not an advocate.
    assert got.candidate.tolist() == [False, False, True, True, False, True, False]


def test_points_weigh_every_advocacy_kind_of_the_event_vocabulary() -> None:
    assert set(advocacy.POINTS) == ADVOCACY_KINDS


def test_value_raises_the_score_but_is_no_gate() -> None:
    counts = {"product_shared": [2, 2], "product_reviewed": [0, 0]}
    low, high = advocacy.score(counts, [3, 3], [1, 5]).score
    assert high > low
    assert advocacy.score({"product_shared": [4]}, [4], [1]).candidate.tolist() == [True]


def test_rejects_misaligned_or_negative_inputs() -> None:
    with pytest.raises(Invalid):
        advocacy.score({"product_shared": [1, 2]}, [1], [1])
    with pytest.raises(Invalid):
        advocacy.score({}, [1], [6])
    with pytest.raises(Invalid):
        advocacy.score({"product_shared": [-1]}, [1], [1])
    with pytest.raises(Invalid):
        advocacy.score({}, [-1], [1])


# --- acceptance on the simulator ----------------------------------------------------------

SEEDS = (1, 2, 3)


@pytest.fixture(scope="module", params=SEEDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimulatedShop]:
    """A 500-customer, 180-day simulated shop per seed (~8 s of CPU each)."""
    shop = simulated_shop(tmp_path_factory.mktemp(f"seed{request.param}"), 500, 180, request.param)
    yield shop
    shop.shop.close()


@pytest.mark.slow
def test_candidates_are_the_planted_influencers(seeded: SimulatedShop) -> None:
    """Precision and recall >= 0.8 over every planted influencer the store knows, including
    those who seldom or never order (issue 4's acceptance)."""
    precision, recall = seeded.advocates_against_truth()
    assert len(seeded.influencers) >= 10
    assert precision >= 0.8
    assert recall >= 0.8
