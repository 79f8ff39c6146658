"""Interactive mode: simulated visitors react to relevance and to care."""

from __future__ import annotations

import numpy as np
import pytest

from shopkeeper.simulator.interactive import Decision, InteractiveShop, Report, Visit

CUSTOMERS, DAYS, SEED = 300, 60, 9


def _run(policy_for: str) -> Report:
    sim = InteractiveShop(seed=SEED, customers=CUSTOMERS)
    rng = np.random.default_rng(123)
    skus: list[str] = []
    for visit in sim.visits(days=DAYS):
        if not skus:
            assert sim.world is not None
            skus = sim.world.catalog.skus
        if policy_for == "oracle":
            decision = Decision(recommended_skus=sim.oracle_recommendations(visit, 5))
        elif policy_for == "random":
            picks = rng.choice(len(skus), 5, replace=False).tolist()
            decision = Decision(recommended_skus=[skus[i] for i in picks])
        elif policy_for == "dear_sir":
            decision = Decision(greeting="Dear Sir", salutation_used="Mr")
        elif policy_for == "crowded":
            decision = Decision(offers=["SAVE10", "FREESHIP", "BUY2GET1"])
        else:
            decision = Decision()
        sim.respond(visit, decision)
    return sim.report()


def test_relevant_recommendations_beat_random_ones() -> None:
    oracle, random = _run("oracle"), _run("random")
    assert oracle.visits > 500
    assert oracle.clicks > 3 * random.clicks
    assert oracle.revenue > 1.3 * random.revenue
    assert oracle.click_rate > 0.1


def test_a_guessed_salutation_costs_purchases() -> None:
    plain, guessed = _run("plain"), _run("dear_sir")
    assert guessed.purchases < 0.8 * plain.purchases
    assert guessed.returning < plain.returning


def test_too_many_offers_cost_purchases_and_returns() -> None:
    plain, crowded = _run("plain"), _run("crowded")
    assert crowded.purchases < plain.purchases
    assert crowded.returning < plain.returning


def test_visits_show_what_the_shop_may_know_and_never_the_persona() -> None:
    sim = InteractiveShop(seed=SEED, customers=50)
    visits: list[Visit] = []
    for visit in sim.visits(days=20):
        visits.append(visit)
        outcome = sim.respond(visit, Decision())
        assert outcome.clicked_skus == []
    assert visits
    assert all(v.timestamp >= visits[0].timestamp for v in visits)
    for v in visits:
        assert "persona" not in repr(v)
        assert (v.visitor.customer_id is None) == (v.visitor.traits == {})
        assert v.source in {"direct", "organic", "paid_search", "social", "email", "referral"}
    report = sim.report()
    assert report.visits == len(visits)
    assert set(report.by_persona) <= {
        "deal_seeker",
        "premium_loyalist",
        "parent",
        "seasonal_gift_buyer",
        "window_shopper",
        "one_off",
        "lapsing_regular",
    }


def test_each_visit_is_answered_once() -> None:
    sim = InteractiveShop(seed=1, customers=50)
    visits = sim.visits(days=20)
    first = next(visits)
    sim.respond(first, Decision())
    with pytest.raises(ValueError, match="once"):
        sim.respond(first, Decision())
    second = next(visits)  # an unanswered visit counts as "showed nothing"
    next(visits)
    assert sim.report().visits == 2
    assert second.visit_id == 2


def test_run_drives_a_policy() -> None:
    report = InteractiveShop(seed=2, customers=40).run(lambda visit: Decision(), days=15)
    assert report.visits > 0
    assert report.revenue_per_visit >= 0
