"""Tenure rule at its boundaries (pure: no store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopkeeper.customers.tenure import TenureFacts, TenureRules, tenure_of

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def facts(
    *,
    first_seen_days_ago: float | None = 1,
    sessions: int = 1,
    recent_sessions: int | None = None,
    recent_orders: int = 0,
    orders_before_current_session: int = 0,
) -> TenureFacts:
    return TenureFacts(
        first_seen=None
        if first_seen_days_ago is None
        else NOW - timedelta(days=first_seen_days_ago),
        sessions=sessions,
        recent_sessions=sessions if recent_sessions is None else recent_sessions,
        recent_orders=recent_orders,
        orders_before_current_session=orders_before_current_session,
    )


def test_first_visit_is_a_newcomer() -> None:
    assert tenure_of(facts(), NOW) == "newcomer"


def test_never_seen_is_a_newcomer() -> None:
    assert tenure_of(facts(first_seen_days_ago=None, sessions=0), NOW) == "newcomer"


@pytest.mark.parametrize(
    ("days", "expected"),
    [(29.999, "newcomer"), (30, "returning"), (30.001, "returning")],
)
def test_newcomer_ends_at_30_days(days: float, expected: str) -> None:
    assert tenure_of(facts(first_seen_days_ago=days), NOW) == expected


def test_a_second_session_makes_a_returning_customer() -> None:
    assert tenure_of(facts(sessions=2), NOW) == "returning"


def test_first_order_in_the_current_session_keeps_a_newcomer() -> None:
    assert tenure_of(facts(recent_orders=1, orders_before_current_session=0), NOW) == "newcomer"


def test_an_order_before_the_current_session_makes_a_returning_customer() -> None:
    result = tenure_of(facts(recent_orders=1, orders_before_current_session=1), NOW)
    assert result == "returning"


@pytest.mark.parametrize(("orders", "expected"), [(2, "returning"), (3, "regular")])
def test_regular_from_three_recent_orders(orders: int, expected: str) -> None:
    f = facts(
        first_seen_days_ago=200,
        sessions=2,
        recent_orders=orders,
        orders_before_current_session=orders,
    )
    assert tenure_of(f, NOW) == expected


@pytest.mark.parametrize(("sessions", "expected"), [(4, "returning"), (5, "regular")])
def test_regular_from_five_recent_sessions(sessions: int, expected: str) -> None:
    assert tenure_of(facts(first_seen_days_ago=200, sessions=sessions), NOW) == expected


def test_old_sessions_do_not_make_a_regular() -> None:
    assert tenure_of(facts(first_seen_days_ago=400, sessions=50, recent_sessions=4), NOW) == (
        "returning"
    )


def test_regular_wins_over_newcomer() -> None:
    # Three store orders today, no web session yet.
    f = facts(sessions=0, recent_orders=3, orders_before_current_session=3)
    assert tenure_of(f, NOW) == "regular"


def test_thresholds_are_configurable_and_frozen() -> None:
    rules = TenureRules(newcomer_days=7, regular_sessions=2)
    assert tenure_of(facts(first_seen_days_ago=8), NOW, rules) == "returning"
    assert tenure_of(facts(first_seen_days_ago=100, sessions=2), NOW, rules) == "regular"
    with pytest.raises(AttributeError):
        rules.newcomer_days = 1  # type: ignore[misc]
