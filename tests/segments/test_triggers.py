"""Known answers for the built-in triggers (pure: events in, firing and evidence out)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopkeeper.segments.realtime import EventFacts
from shopkeeper.segments.triggers import BUILTIN_TRIGGERS_BY_NAME, Firing, Trigger, evaluate

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
PREMIUM = BUILTIN_TRIGGERS_BY_NAME["premium_affinity"]
VIEWED_FILTER = {"field": "kind", "op": "=", "value": "product_viewed"}


def view(minutes_ago: float, sku: str, tier: str, category: str = "kids/toddler") -> EventFacts:
    return EventFacts(
        timestamp=NOW - timedelta(minutes=minutes_ago),
        kind="product_viewed",
        category=category,
        price_tier=tier,
        sku=sku,
    )


def event(minutes_ago: float, kind: str) -> EventFacts:
    return EventFacts(timestamp=NOW - timedelta(minutes=minutes_ago), kind=kind)


def run(trigger: Trigger, events: list[EventFacts], now: datetime = NOW) -> Firing | None:
    return evaluate(trigger, events, list(range(100, 100 + len(events))), now)


def test_premium_affinity_fires_for_the_toddler_premium_pattern() -> None:
    events = [
        view(50, "t1", "premium"),
        view(40, "t2", "budget"),
        view(30, "t3", "premium"),
        view(20, "t4", "mid"),
        view(10, "w1", "budget", category="women/dresses"),  # another category: no part
    ]
    firing = run(PREMIUM, events)
    assert firing is not None
    evidence = firing.evidence
    assert evidence["category"] == "kids"
    items, premium, share = evidence["measures"]
    assert (items["value"], premium["value"], share["value"]) == (4, 2, 0.5)
    assert items["event_ids"] == [100, 101, 102, 103]
    assert premium["event_ids"] == [100, 102]
    assert share["matching_event_ids"] == [100, 102]
    assert evidence["skus"] == ["t1", "t2", "t3", "t4"]


def test_premium_affinity_does_not_fire_for_a_budget_browser() -> None:
    events = [view(50 - i, f"b{i}", "budget") for i in range(4)]
    assert run(PREMIUM, events) is None
    one_premium = [view(50, "p", "premium"), *[view(40 - i, f"b{i}", "budget") for i in range(3)]]
    assert run(PREMIUM, one_premium) is None  # 1 of 4: below half


def test_premium_affinity_counts_items_not_repeated_views() -> None:
    again = [view(50 - i, "p1", "premium") for i in range(3)] + [view(10, "b1", "budget")]
    assert run(PREMIUM, again) is None  # one premium item viewed three times: 2 items
    more = [*again, view(9, "b2", "budget"), view(8, "b3", "budget")]
    assert run(PREMIUM, more) is None  # 4 items but 1 premium, though 3 of 6 views are
    both = [*again, view(9, "b2", "budget"), view(8, "p2", "premium")]
    assert run(PREMIUM, both) is not None  # 4 items, 2 premium, 4 of 6 views premium


def test_premium_affinity_counts_views_per_category() -> None:
    spread = [
        view(50, "t1", "premium"),
        view(40, "t2", "premium"),
        view(30, "w1", "premium", category="women/dresses"),
        view(20, "h1", "premium", category="home/decor"),
    ]
    assert run(PREMIUM, spread) is None  # 4 premium views, but no category has 4


def test_premium_affinity_window_is_14_days() -> None:
    events = [view(60 * 24 * 14, "old", "premium")] + [
        view(10 + i, f"t{i}", t) for i, t in enumerate(["premium", "budget", "premium"])
    ]
    assert run(PREMIUM, events) is None  # exactly 14 days ago is out
    assert run(PREMIUM, events, NOW - timedelta(minutes=5)) is not None  # then it was in


def test_browse_no_buy() -> None:
    trigger = BUILTIN_TRIGGERS_BY_NAME["browse_no_buy"]
    views = [view(60 - i, f"s{i}", "mid") for i in range(6)]
    assert run(trigger, views) is not None
    assert run(trigger, views[:5]) is None
    assert run(trigger, [*views, event(1, "product_added")]) is None


def test_cart_abandoned_needs_time_to_pass() -> None:
    trigger = BUILTIN_TRIGGERS_BY_NAME["cart_abandoned"]
    added = [event(90, "product_added")]
    assert run(trigger, added) is not None  # 90 minutes, no order
    assert run(trigger, added, NOW - timedelta(minutes=40)) is None  # only 50 minutes then
    assert run(trigger, [*added, event(30, "order_completed")]) is None
    assert run(trigger, [event(60 * 25, "product_added")]) is None  # a day old: let go
    firing = run(trigger, added)
    assert firing is not None
    assert firing.evidence["measures"][0]["event_ids"] == [100]


def test_category_interest() -> None:
    trigger = BUILTIN_TRIGGERS_BY_NAME["category_interest"]
    views = [view(100 - i, f"s{i}", "mid", category="home/decor") for i in range(5)]
    firing = run(trigger, views)
    assert firing is not None
    assert firing.evidence["category"] == "home"
    assert run(trigger, views[:4]) is None


def test_a_trigger_must_be_about_events() -> None:
    with pytest.raises(ValueError, match="not profile fields"):
        Trigger("x", "x", {"field": "revenue", "op": ">", "value": 1}, timedelta(days=1))
    with pytest.raises(ValueError, match="per"):
        Trigger(
            "x",
            "x",
            {"count": {"within": {"days": 1}}, "op": ">", "value": 1},
            timedelta(days=1),
            per="brand",
        )


def test_gates_are_read_off_the_rules() -> None:
    gate = PREMIUM.gate
    assert gate is not None
    assert (gate.kinds, gate.window, gate.n) == (
        frozenset({"product_viewed"}),
        timedelta(days=14),
        4,
    )
    cart = BUILTIN_TRIGGERS_BY_NAME["cart_abandoned"].gate
    assert cart is not None
    assert cart.kinds == {"product_added", "checkout_started"}
    assert BUILTIN_TRIGGERS_BY_NAME["category_interest"].gate is None  # an "any": no promise
    loose = Trigger(
        "x",
        "x",
        {"count": {"where": VIEWED_FILTER, "within": {"days": 1}}, "op": ">", "value": 0.5},
        timedelta(days=1),
    )
    assert loose.gate is not None
    assert loose.gate.n == 1


def test_kinds_a_loader_may_skip_the_rest() -> None:
    assert PREMIUM.kinds == {"product_viewed"}
    assert BUILTIN_TRIGGERS_BY_NAME["cart_abandoned"].kinds == {
        "product_added",
        "checkout_started",
        "order_completed",
    }
    window = {"within": {"days": 1}}
    anything = Trigger("x", "x", {"count": window, "op": ">", "value": 3}, timedelta(days=1))
    assert anything.kinds is None  # counts every kind
    quiet = {"count": {"where": VIEWED_FILTER, **window}, "op": "=", "value": 0}
    assert Trigger("y", "y", quiet, timedelta(days=1)).kinds is None  # true with no events
