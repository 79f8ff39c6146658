"""Every check finds exactly the planted rows, on SQLite and PostgreSQL; scores follow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.errors import Invalid
from shopkeeper.quality.checks import CHECKS, TABLES

from . import factories as f
from .conftest import Expected, scorecard
from .factories import NOW


def test_every_check_finds_exactly_the_planted_rows(shop: Shopkeeper, planted: Expected) -> None:
    card = scorecard(shop)
    assert set(planted.counts) == set(CHECKS), "the planted store must exercise every check"
    for check, (affected, total, examples) in planted.counts.items():
        finding = card.finding(check)
        if affected == 0:
            assert finding is None, f"{check}: {finding}"
            continue
        assert finding is not None, check
        assert (finding.affected, finding.total) == (affected, total), check
        if examples:
            assert set(finding.examples) == examples, check
        assert finding.message.startswith(f"{affected:,} of {total:,} "), finding.message


def test_findings_carry_their_details(shop: Shopkeeper, planted: Expected) -> None:
    card = scorecard(shop)
    cancelled = card.finding("orders.cancelled")
    assert cancelled is not None
    assert cancelled.severity == "info"
    assert "1 cancelled, 1 refunded, 0 partially refunded" in cancelled.message
    late = card.finding("events.late")
    assert late is not None
    assert "p50 ≤1s" in late.message
    stale = card.finding("events.stale_source")
    assert stale is not None
    assert (stale.unit, stale.table, stale.dimension) == ("sources", "events", "timeliness")


def test_scores_of_the_planted_store(shop: Shopkeeper, planted: Expected) -> None:
    card = scorecard(shop)
    assert card.overall is not None
    assert 0 < card.overall < 100
    orders = next(t for t in card.tables if t.table == "orders")
    # validity: 4 error checks (currency 1/8, negative total 1/8, future 1/8, ancient 1/8)
    # and an info check that does not count: 100 × (1 − 4·(1/8) / 4) = 87.5.
    assert orders.dimensions["validity"] == 87.5
    assert orders.dimensions["anomaly"] is None
    assert card.dimensions["anomaly"] is None  # too little history to score


def test_an_empty_store_has_nothing_to_score(shop: Shopkeeper) -> None:
    card = scorecard(shop)
    assert card.findings == []
    assert card.overall is None
    assert all(t.score is None for t in card.tables)


def test_scores_move_with_the_problems(shop: Shopkeeper) -> None:
    with shop.db.transaction() as s:
        f.customer(s, "c1", "a@example.com")
        f.consent(s, "c1", "email")
        f.product(s, "P1")
        for i in range(10):
            f.order(s, f"o{i}", "c1", NOW - timedelta(hours=i), "10", [("P1", 1, "10")])
    clean = scorecard(shop)
    assert clean.overall == 100.0
    assert clean.findings == []
    with shop.db.transaction() as s:
        f.order(s, "anon", None, NOW, "10", [("P1", 1, "10")])
    one = scorecard(shop)
    with shop.db.transaction() as s:
        f.order(s, "anon2", None, NOW, "10", [("P1", 1, "10")])
        f.order(s, "bad", "c1", NOW, "10", [("GHOST", 1, "10")])
    more = scorecard(shop)
    completeness = [c.dimensions["completeness"] for c in (clean, one, more)]
    assert completeness[0] > completeness[1] > completeness[2]
    assert clean.overall > (one.overall or 0) > (more.overall or 0)
    lines = next(t for t in more.tables if t.table == "order_lines")
    assert lines.dimensions["consistency"] is not None
    assert lines.dimensions["consistency"] < 100


def test_one_table(shop: Shopkeeper, planted: Expected) -> None:
    card = scorecard(shop, "orders")
    assert card.table == "orders"
    assert [t.table for t in card.tables] == ["orders"]
    assert {finding.table for finding in card.findings} == {"orders"}
    assert card.overall == card.tables[0].score


def test_an_unknown_table_is_refused(shop: Shopkeeper) -> None:
    with pytest.raises(Invalid) as raised:
        scorecard(shop, "nope")
    assert raised.value.detail == {"field": "table"}
    assert set(TABLES) <= set(raised.value.message.replace(",", " ").split())


def test_a_planted_volume_spike_is_flagged(shop: Shopkeeper) -> None:
    start = (NOW - timedelta(days=28)).replace(hour=12, minute=0)
    days = [start + timedelta(days=i) for i in range(28)]
    steady = {day: 20 + (i % 3) for i, day in enumerate(days)}
    spike_day = days[20]
    with shop.db.transaction() as s:
        f.daily_events(s, "google", {**steady, spike_day: 200})
        f.daily_events(s, "bing", steady)
    card = scorecard(shop, "events")
    finding = card.finding("events.volume_anomaly")
    assert finding is not None
    assert (finding.affected, finding.total) == (1, 56)
    assert finding.examples[0].startswith(f"google@{spike_day.date().isoformat()}: 200 events")
    assert card.dimensions["anomaly"] is not None
    assert card.dimensions["anomaly"] < 100


def test_steady_volume_is_not_flagged(shop: Shopkeeper) -> None:
    start = (NOW - timedelta(days=28)).replace(hour=12, minute=0)
    with shop.db.transaction() as s:
        f.daily_events(s, "google", {start + timedelta(days=i): 20 + i % 4 for i in range(28)})
    card = scorecard(shop, "events")
    assert card.finding("events.volume_anomaly") is None
    assert card.dimensions["anomaly"] == 100.0
