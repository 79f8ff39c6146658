"""Each stored event gets the traffic channel it shows; sessions and the profile read it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.customers.sessions import split_sessions
from shopkeeper.events.normalize import event_row
from shopkeeper.events.schemas import Message

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
SHOP = "https://shop.example/p/boots"


def channel(message: dict[str, Any]) -> str | None:
    base = {"type": "track", "event": "Product Viewed", "anonymousId": "a"}
    row = event_row(Message.model_validate({**base, **message}), NOW)
    value: str | None = row["traffic_channel"]
    return value


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"context": {"campaign": {"source": "facebook", "medium": "paid_social"}}}, "paid_social"),
        ({"context": {"page": {"url": SHOP + "?utm_source=newsletter&utm_medium=email"}}}, "email"),
        ({"context": {"page": {"url": SHOP + "?gclid=x"}}}, "paid_search"),
        ({"context": {"page": {"url": SHOP, "referrer": "https://www.google.com/"}}}, "organic"),
        ({"context": {"page": {"url": SHOP, "referrer": "https://shop.example/c/kids"}}}, None),
        ({"context": {"page": {"url": SHOP}}}, "direct"),
        ({}, None),  # server-side: no page, no tags: shows no channel
        ({"type": "page", "properties": {"url": SHOP, "referrer": "https://t.co/x"}}, "social"),
    ],
)
def test_normalize_stores_the_channel(message: dict[str, Any], expected: str | None) -> None:
    assert channel(message) == expected


def test_session_channel_is_the_first_shown() -> None:
    hits = [
        (NOW, None, None),
        (NOW + timedelta(minutes=1), None, "paid_social"),
        (NOW + timedelta(minutes=2), None, "direct"),
        (NOW + timedelta(hours=2), None, "email"),
    ]
    sessions = split_sessions(hits)
    assert [s.channel for s in sessions] == ["paid_social", "email"]


def test_profile_shows_current_and_first_channel(shop: Shopkeeper) -> None:
    def page(minutes: int, context: dict[str, Any]) -> dict[str, Any]:
        stamp = (NOW - timedelta(days=3) + timedelta(minutes=minutes)).isoformat()
        return {"type": "page", "anonymousId": "v1", "timestamp": stamp, "context": context}

    shop.events.ingest(
        [
            page(0, {"page": {"url": SHOP + "?fbclid=1&utm_medium=cpc"}}),
            page(5, {"page": {"url": SHOP, "referrer": "https://shop.example/"}}),
            page(600, {"page": {"url": SHOP, "referrer": "https://www.bing.com/"}}),
            page(2000, {"page": {"url": SHOP}}),
        ]
    )
    traffic = shop.customers.profile("v1").traffic
    assert traffic.first_channel == "paid_social"
    assert traffic.channel == "direct"
    assert traffic.sessions_by_channel == {"direct": 1, "organic": 1, "paid_social": 1}
    events = shop.customers.events("v1").events
    assert [e.traffic_channel for e in reversed(events)] == [
        "paid_social",
        None,
        "organic",
        "direct",
    ]
