"""Real-time evaluator: known answers for windows, missing values, shares and reasons."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shopkeeper.segments.realtime import (
    EventFacts,
    ProfileFacts,
    compile_rule,
    evaluate,
)
from shopkeeper.segments.rules import parse_rule
from tests.segments.examples import LAPSED_LOYAL, TODDLER_PREMIUM

NOW = datetime(2026, 3, 1, 12, 0, 0, 500_000)


def view(
    age: timedelta, category: str = "kids/toddler/shoes", tier: str = "premium", **more: Any
) -> EventFacts:
    return EventFacts(NOW - age, "product_viewed", category=category, price_tier=tier, **more)


def matches(rule: dict[str, Any], events: Sequence[EventFacts] = (), **profile: Any) -> bool:
    return evaluate(parse_rule(rule), ProfileFacts(profile), events, NOW).matched


def count(days: int = 14, **where: str) -> dict[str, Any]:
    filters = [{"field": k, "op": "=", "value": v} for k, v in where.items()]
    spec: dict[str, Any] = {"within": {"days": days}}
    if filters:
        spec["where"] = {"all": filters}
    return {"count": spec, "op": ">=", "value": 1}


def test_window_boundary_excludes_exactly_n_ago_and_the_future() -> None:
    day = timedelta(days=1)
    assert not matches(count(1), [view(day)])  # exactly 1 day ago: out
    assert matches(count(1), [view(day - timedelta(microseconds=1))])
    assert matches(count(1), [view(timedelta(0))])  # at now: in
    assert not matches(count(1), [view(-timedelta(microseconds=1))])  # future: out


def test_windows_in_hours_and_minutes() -> None:
    rule = {"count": {"within": {"minutes": 30}}, "op": ">=", "value": 2}
    events = [view(timedelta(minutes=10)), view(timedelta(minutes=29)), view(timedelta(hours=1))]
    assert matches(rule, events)
    assert not matches(rule, events[1:])


def test_toddler_premium_pattern_matches_premium_browsers_not_budget_ones() -> None:
    premium = [view(timedelta(days=d), tier="premium" if d % 2 else "budget") for d in range(1, 5)]
    budget = [view(timedelta(days=d), tier="budget") for d in range(1, 6)]
    toddlers_not_toddler = [view(timedelta(days=d), category="kids/toddlers") for d in range(4)]
    assert matches(TODDLER_PREMIUM, premium)
    assert not matches(TODDLER_PREMIUM, budget)
    assert not matches(TODDLER_PREMIUM, toddlers_not_toddler)  # a path prefix, not a substring


def test_lapsed_loyal() -> None:
    old_order = EventFacts(NOW - timedelta(days=120), "order_completed", value=50.0)
    recent_order = EventFacts(NOW - timedelta(days=10), "order_completed", value=50.0)
    assert matches(LAPSED_LOYAL, [old_order], rfm_segment="Loyal")
    assert not matches(LAPSED_LOYAL, [recent_order], rfm_segment="Loyal")
    assert not matches(LAPSED_LOYAL, [old_order], rfm_segment="Lost")
    assert not matches(LAPSED_LOYAL, [old_order])  # no segment: "in" is false


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("=", 1, False),
        ("!=", 1, False),
        (">", 1, False),
        ("in", [1], False),
        ("not in", [1], False),
        ("is set", None, False),
        ("is not set", None, True),
    ],
)
def test_a_missing_value_makes_every_comparison_false(op: str, value: Any, expected: bool) -> None:
    rule: dict[str, Any] = {"field": "revenue", "op": op}
    if value is not None:
        rule["value"] = value
    assert matches(rule) is expected
    assert matches(rule, revenue=float("nan")) is expected  # NaN is missing too
    assert matches({"not": rule}) is not expected  # not is plain negation


def test_sum_ignores_missing_values_and_share_of_nothing_is_missing() -> None:
    total = {"sum": {"field": "value", "within": {"days": 7}}, "op": "=", "value": 3.5}
    events = [
        view(timedelta(days=1), value=1.0),
        view(timedelta(days=2)),
        view(timedelta(days=3), value=2.5),
    ]
    assert matches(total, events)
    nothing = {"sum": {"field": "value", "within": {"days": 7}}, "op": "=", "value": 0}
    assert matches(nothing, [])
    share = {
        "share": {
            "where": {"field": "price_tier", "op": "=", "value": "premium"},
            "within": {"days": 7},
        },
        "op": "<",
        "value": 0.5,
    }
    assert not matches(share, [])  # 0 of 0 is not "less than half"
    assert matches({"not": share}, [])  # two-valued: not(false) is true


def test_distinct_counts_values_not_events() -> None:
    rule = {"distinct": {"field": "sku", "within": {"days": 7}}, "op": "=", "value": 2}
    events = [
        view(timedelta(days=1), sku="a"),
        view(timedelta(days=2), sku="a"),
        view(timedelta(days=3), sku="b"),
        view(timedelta(days=4)),
    ]
    assert matches(rule, events)


def test_reasons_name_the_parts_that_were_true() -> None:
    rule = parse_rule(
        {
            "any": [
                {"field": "revenue", "op": ">=", "value": 100},
                {"not": {"field": "source", "op": "=", "value": "direct"}},
                {"field": "orders", "op": ">", "value": 5},
            ]
        }
    )
    match = compile_rule(rule).evaluate(ProfileFacts({"revenue": 120.0, "orders": 2}), [], NOW)
    assert match.matched
    assert match.reasons == [
        "rule.any[0]: revenue >= 100 (was 120.0)",
        "rule.any[1]: not source = 'direct'",
    ]
    assert compile_rule(rule).evaluate(ProfileFacts({"source": "direct"}), [], NOW).reasons == []


def test_aware_timestamps_work_like_naive_utc() -> None:
    now = NOW.replace(tzinfo=UTC)
    event = EventFacts(now - timedelta(hours=1), "page_viewed")
    rule = compile_rule(parse_rule(count(1)))
    assert rule.matches(ProfileFacts(), [event], now)


def test_pure_modules_import_no_engine_web_or_database() -> None:
    code = (
        "import sys, shopkeeper.segments.rules, shopkeeper.segments.fields, "
        "shopkeeper.segments.realtime; "
        "print(sorted(m for m in ('ibis', 'sqlalchemy', 'fastapi', 'duckdb', 'pandas', 'yaml') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
