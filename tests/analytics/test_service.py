"""AnalyticsService over a real store (SQLite and PostgreSQL) on the small known-answer shop."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shopkeeper.analytics import rfm
from shopkeeper.application import Shopkeeper
from shopkeeper.errors import Invalid, NotFound
from shopkeeper.models import CustomerScore

from .conftest import OCTOBER, REFERENCE, RFM_INPUTS


def test_rfm_through_the_store_equals_the_pure_result(shop: Shopkeeper, store: Any) -> None:
    with shop.db.sessions() as session:
        report = shop.analytics.rfm(session, REFERENCE)
    users = sorted(RFM_INPUTS)
    expected = rfm.score(*(list(col) for col in zip(*(RFM_INPUTS[u] for u in users), strict=True)))
    by_id = {c.customer_id: c for c in report.customers}
    assert set(by_id) == {store[u] for u in users}
    for i, user in enumerate(users):
        got = by_id[store[user]]
        assert (got.recency_days, got.frequency, got.monetary_total) == RFM_INPUTS[user]
        assert (got.r, got.f, got.m) == (
            expected.recency[i],
            expected.frequency[i],
            expected.monetary[i],
        )
        assert got.segment == expected.segments[i]
    assert by_id[store["u1"]].segment == rfm.Segment.CHAMPIONS  # R=5, F=4 by hand
    assert sum(report.segments.values()) == sum(map(sum, report.grid)) == 6


def test_window_keeps_only_recent_orders(shop: Shopkeeper, store: Any) -> None:
    with shop.db.sessions() as session:
        report = shop.analytics.rfm(session, REFERENCE, window_days=31)
    frequency = {c.customer_id: c.frequency for c in report.customers}
    assert frequency == {store["u1"]: 2, store["u2"]: 1, store["u3"]: 1}


def test_high_value_and_advocates(shop: Shopkeeper, store: Any) -> None:
    with shop.db.sessions() as session:
        high = shop.analytics.high_value(session, REFERENCE)
        advocates = shop.analytics.advocates(session, REFERENCE)
    assert [v.customer_id for v in high] == [store[u] for u in ("u4", "u2", "u1", "u3")]
    # u1: 2 reviews + 1 share = 3 actions, 4 points over 2 visits (sessions s1 and s2; e-mail
    # and sign-in events are no visits); spend 180 is M = 3 of 6.
    (u1,) = advocates
    assert (u1.customer_id, u1.advocacy_actions, u1.orders, u1.visits) == (store["u1"], 3, 3, 2)
    assert u1.engagement_points == 4.0
    assert u1.advocacy_score == pytest.approx(4 / (2 + 5) * (0.5 + 0.1 * 3))


def test_kpis_known_answer(shop: Shopkeeper, store: Any) -> None:
    with shop.db.sessions() as session:
        report = shop.analytics.kpis(session, "month", None, *OCTOBER)
    (row,) = report.rows
    assert str(row["period"]) == "2026-10-01"
    assert row["orders"] == 5
    assert row["revenue"] == pytest.approx(420.0)
    assert row["aov"] == pytest.approx(84.0)
    assert row["items_per_order"] == pytest.approx(2.0)
    assert row["sessions"] == 8
    assert row["visitors"] == 4
    assert row["conversion_rate"] == pytest.approx(5 / 8)
    assert row["revenue_per_visitor"] == pytest.approx(105.0)
    assert row["email_ctr"] == pytest.approx(0.25)
    assert row["repeat_purchase_rate"] == pytest.approx(2 / 3)
    assert row["return_rate"] == pytest.approx(1 / 6)
    assert row["revenue_change"] is None  # first period shown
    assert {d.name: d.tag for d in report.definitions}["conversion_rate"] == "leading"


def test_kpis_change_and_breakdown(shop: Shopkeeper, store: Any) -> None:
    with shop.db.sessions() as session:
        months = shop.analytics.kpis(session, "month")
        by_channel = shop.analytics.kpis(session, "month", "channel", *OCTOBER)
    revenue = {str(r["period"]): r["revenue"] for r in months.rows}
    october = next(r for r in months.rows if str(r["period"]) == "2026-10-01")
    assert october["revenue_change"] == pytest.approx((420 - 70) / 70)  # September: 30 + 40
    assert revenue["2026-09-01"] == pytest.approx(70.0)
    assert sum(r["orders"] for r in by_channel.rows) == 5
    with shop.db.sessions() as session:
        for bad in ({"grain": "year"}, {"by": "colour"}):
            with pytest.raises(Invalid):
                shop.analytics.kpis(session, **bad)


def test_cohorts_known_answer(shop: Shopkeeper, store: Any) -> None:
    with shop.db.sessions() as session:
        report = shop.analytics.cohorts(session)
    assert [f"{c:%Y-%m}" for c in report.cohorts] == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
    ]
    assert report.sizes == [1, 1, 1, 2, 1]
    assert report.offsets == [0, 1, 2]
    assert report.retention == [
        [1.0, None, None],
        [1.0, None, None],  # u5's October order was refunded: not retained
        [1.0, None, 1.0],
        [1.0, 0.5, None],
        [1.0, None, None],
    ]


def test_write_back_stores_scores_the_profile_can_read(shop: Shopkeeper, store: Any) -> None:
    with shop.db.transaction() as session:
        result = shop.analytics.write_back(session, REFERENCE)
    assert result.customers == 6
    with shop.db.sessions() as session:
        report = shop.analytics.rfm(session, REFERENCE)
        score = shop.analytics.score_of(session, "u1")
        assert score is not None
        u1 = next(c for c in report.customers if c.customer_id == store["u1"])
        assert (score.rfm_r, score.rfm_f, score.rfm_m, score.rfm_segment) == (
            u1.r,
            u1.f,
            u1.m,
            u1.segment,
        )
        assert score.computed_at == shop.clock.now()
        if result.with_clv:
            assert score.clv is not None
            assert score.clv_low is not None
            assert score.clv_low <= score.clv <= (score.clv_high or 0)
            assert 0 <= (score.p_alive or 0) <= 1
        with pytest.raises(NotFound):
            shop.analytics.score_of(session, "nobody")
    with shop.db.transaction() as session:  # a second run on the same data writes nothing
        again = shop.analytics.write_back(session, REFERENCE)
    assert (again.customers, again.written, again.unchanged, again.removed) == (6, 0, 6, 0)
    shop.clock.advance(days=1)
    with shop.db.transaction() as session:  # a later day: only customers whose scores moved
        later = shop.analytics.write_back(session, REFERENCE + timedelta(days=200))
    assert later.written + later.unchanged == 6
    with shop.db.sessions() as session:
        moved = session.scalars(
            select(CustomerScore).where(CustomerScore.computed_at == shop.clock.now())
        ).all()
        kept = session.scalars(
            select(CustomerScore).where(CustomerScore.computed_at < shop.clock.now())
        ).all()
    assert (len(moved), len(kept)) == (later.written, later.unchanged)


def test_empty_store(shop: Shopkeeper) -> None:
    with shop.db.sessions() as session:
        assert shop.analytics.rfm(session).customers == []
        assert shop.analytics.cohorts(session).cohorts == []
        assert shop.analytics.kpis(session).rows == []
        with pytest.raises(Invalid):
            shop.analytics.clv(session)


def test_movements_between_two_days(shop: Shopkeeper, store: Any) -> None:
    with shop.db.sessions() as session:
        report = shop.analytics.movements(session, date(2026, 10, 1), REFERENCE)
        then = {
            c.customer_id: c.segment
            for c in shop.analytics.rfm(session, date(2026, 10, 1)).customers
        }
    moved = {m.customer_id: (m.before, m.after) for m in report.customers}
    assert moved[store["u2"]] == (None, rfm.Segment.PROMISING)  # new on 25 October: R4 F1
    assert all(before == then.get(cid) for cid, (before, _) in moved.items())
    assert sum(t.customers for t in report.transitions) == len(report.customers)
    with shop.db.sessions() as session, pytest.raises(Invalid):
        shop.analytics.movements(session, REFERENCE, REFERENCE)


def test_kpis_by_segment_use_the_stored_scores(shop: Shopkeeper, store: Any) -> None:
    with shop.db.sessions() as session:
        before = shop.analytics.kpis(session, "month", "segment", *OCTOBER)
    assert {r["dimension"] for r in before.rows} == {"unknown"}  # nothing written back yet
    with shop.db.transaction() as session:
        shop.analytics.write_back(session, REFERENCE)
    with shop.db.sessions() as session:
        after = shop.analytics.kpis(session, "month", "segment", *OCTOBER)
    orders = {r["dimension"]: r["orders"] for r in after.rows}
    assert orders[rfm.Segment.CHAMPIONS] == 2  # u1's two October orders
    assert orders["unknown"] == 1  # the anonymous order
    assert sum(orders.values()) == 5
