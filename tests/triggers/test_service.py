"""Triggers on the store (both backends): fired on ingest with evidence, cooldown, sweep, API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.events.kinds import TRIGGER_FIRED
from shopkeeper.models import Event
from tests.conftest import basic

T0 = datetime(2026, 11, 2, 9, 0)


def view(
    anon: str, sku: str, tier: str, minute: int, category: str = "kids/toddler"
) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Product Viewed",
        "anonymousId": anon,
        "messageId": f"{anon}-{sku}-{minute}",
        "timestamp": (T0 + timedelta(minutes=minute)).isoformat() + "Z",
        "properties": {
            "product_id": sku,
            "name": f"Toddler {sku}",
            "category": category,
            "brand": "Maison Aurel" if tier == "premium" else "Basics",
            "price_tier": tier,
            "price": 80.0 if tier == "premium" else 12.0,
        },
        "context": {"page": {"url": f"https://shop.example/p/{sku}"}},
    }


def fired(shop: Shopkeeper, who: str, name: str | None = None) -> list[Any]:
    return [f for f in shop.triggers.fired(who).fired if name is None or f.trigger == name]


def count_fired(shop: Shopkeeper) -> int:
    with shop.db.sessions() as s:
        return int(s.scalar(select(func.count()).where(Event.kind == TRIGGER_FIRED)) or 0)


def test_premium_affinity_fires_for_the_parent_not_the_budget_browser(shop: Shopkeeper) -> None:
    parent = [
        view("parent", "t1", "premium", 0),
        view("parent", "t2", "budget", 2),
        view("parent", "t3", "premium", 4),
        view("parent", "t4", "mid", 6),
    ]
    budget = [view("thrifty", f"b{i}", "budget", 2 * i) for i in range(4)]
    result = shop.events.ingest(parent + budget)
    assert result.accepted == 8

    found = fired(shop, "parent")
    assert [f.trigger for f in found] == ["premium_affinity"]
    evidence = found[0].evidence
    assert evidence["category"] == "kids"
    assert evidence["skus"] == ["t1", "t2", "t3", "t4"]
    items, premium, share = evidence["measures"]
    assert (items["value"], premium["value"], share["value"]) == (4, 2, 0.5)
    assert len(share["matching_event_ids"]) == 2
    assert found[0].at == datetime.fromisoformat(parent[-1]["timestamp"])  # the 4th view
    assert fired(shop, "thrifty") == []


def test_cooldown_and_replay_do_not_fire_twice(shop: Shopkeeper) -> None:
    first = [view("p2", f"t{i}", "premium", i) for i in range(4)]
    shop.events.ingest(first)
    assert count_fired(shop) == 1
    shop.events.ingest(first)  # a replayed batch: duplicates, nothing new evaluated
    assert count_fired(shop) == 1
    more = [view("p2", f"u{i}", "premium", 60 + i) for i in range(4)]
    shop.events.ingest(more)  # still premium-minded, but inside the 14-day cooldown
    assert len(fired(shop, "p2", "premium_affinity")) == 1
    later = [view("p2", f"v{i}", "premium", 60 * 24 * 15 + i) for i in range(4)]
    shop.events.ingest(later)  # 15 days on: the cooldown is over
    assert len(fired(shop, "p2", "premium_affinity")) == 2


def test_one_batch_fires_at_the_moment_the_pattern_completes(shop: Shopkeeper) -> None:
    views = [view("p3", f"t{i}", "premium", 10 * i) for i in range(8)]
    shop.events.ingest(views)
    found = fired(shop, "p3", "premium_affinity")
    assert len(found) == 1  # once: the cooldown holds inside a batch too
    assert found[0].at == datetime.fromisoformat(views[3]["timestamp"])


def test_cart_abandoned_by_sweep_and_by_a_later_event(shop: Shopkeeper, clock: FixedClock) -> None:
    added = view("cart", "t1", "mid", 0)
    added.update(event="Product Added", messageId="cart-add")
    shop.events.ingest([added])
    assert fired(shop, "cart") == []
    result = shop.triggers.sweep(at=clock.now().replace(hour=9, minute=30))
    assert (result.people, result.fired) == (1, 0)  # 30 minutes: not yet
    result = shop.triggers.sweep(at=clock.now().replace(hour=10, minute=30))
    assert (result.people, result.fired) == (1, 1)
    assert shop.triggers.sweep(at=clock.now().replace(hour=11)).fired == 0  # cooldown
    found = fired(shop, "cart")
    assert [f.trigger for f in found] == ["cart_abandoned"]
    assert found[0].evidence["skus"] == ["t1"]

    other = view("cart2", "t1", "mid", 0)
    other.update(event="Product Added", messageId="cart2-add")
    shop.events.ingest([other])
    shop.events.ingest([view("cart2", "t9", "mid", 120)])  # back two hours later
    assert [f.trigger for f in fired(shop, "cart2")] == ["cart_abandoned"]


def test_triggers_off(shop: Shopkeeper) -> None:
    off = Shopkeeper(
        settings=shop.settings.model_copy(update={"triggers": "off"}), db=shop.db, clock=shop.clock
    )
    off.events.ingest([view("p4", f"t{i}", "premium", i) for i in range(4)])
    assert count_fired(shop) == 0


def test_history_older_than_the_age_limit_wakes_no_trigger(shop: Shopkeeper) -> None:
    """An import of last month's views is stored and projected but fires nothing; the same
    history replayed with no age limit fires as it would have live."""
    month_ago = -60 * 24 * 30  # minutes before T0; the clock is T0 + 3 h
    old = [view("old", f"t{i}", "premium", month_ago + i) for i in range(4)]
    assert shop.events.ingest(old).accepted == 4
    assert count_fired(shop) == 0
    profile = shop.customers.profile(old[0]["anonymousId"])  # projected: the customer exists
    assert profile.activity.first_seen is not None

    replay = Shopkeeper(
        settings=shop.settings.model_copy(update={"triggers_max_age_days": 0}),
        db=shop.db,
        clock=shop.clock,
    )
    again = [view("again", f"t{i}", "premium", month_ago + i) for i in range(4)]
    replay.events.ingest(again)
    assert [f.trigger for f in fired(shop, "again")] == ["premium_affinity"]


def test_api(shop: Shopkeeper, client: TestClient, keys: dict[str, str]) -> None:
    assert shop.events.writer.running  # the app's writer: triggers run after the answer
    shop.events.ingest([view("p5", f"t{i}", "premium", i) for i in range(4)])
    shop.events.settle()
    read = basic(keys["read"])
    listed = client.get("/v1/triggers", headers=read).json()
    assert listed["enabled"] is True
    assert {t["name"] for t in listed["triggers"]} >= {"premium_affinity", "cart_abandoned"}
    answer = client.get("/v1/customers/p5/triggers", headers=read)
    assert answer.status_code == 200
    assert answer.json()["fired"][0]["trigger"] == "premium_affinity"
    assert client.get("/v1/customers/nobody/triggers", headers=read).status_code == 404
    assert client.get("/v1/customers/p5/triggers?limit=0", headers=read).status_code == 422


def test_trigger_events_are_not_visits(shop: Shopkeeper) -> None:
    shop.events.ingest([view("p6", f"t{i}", "premium", i) for i in range(4)])
    assert shop.customers.profile("p6").activity.sessions == 1
