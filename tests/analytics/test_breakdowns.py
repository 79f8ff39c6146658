"""KPI breakdowns that come from events: an order takes its order event's country and source."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shopkeeper.application import Shopkeeper

DAY = "2026-10-05T12:00:00+00:00"


def _event(n: int, user: str, event: str | None, country: str, **props: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "messageId": f"b{n}",
        "userId": user,
        "timestamp": DAY,
        "context": {
            "sessionId": f"s-{user}",
            "location": {"country": country},
            "campaign": {"source": "newsletter" if country == "NL" else "google"},
        },
    }
    if event is None:
        message["type"] = "page"
    else:
        message.update(type="track", event=event, properties=props)
    return message


@pytest.fixture
def shop_with_orders(shop: Shopkeeper) -> Shopkeeper:
    """NL: two visitors, one order of 30; DE: one visitor, one order of 50."""
    product = [{"product_id": "P1", "price": 10, "quantity": 3}]
    events = [
        _event(1, "nl1", None, "NL"),
        _event(2, "nl2", None, "NL"),
        _event(3, "de1", None, "DE"),
        _event(4, "nl1", "Order Completed", "NL", order_id="A1", total=30, products=product),
        _event(5, "de1", "Order Completed", "DE", order_id="A2", total=50, products=product),
    ]
    result = shop.events.ingest(events)
    assert not result.errors
    return shop


@pytest.mark.parametrize(
    ("by", "first", "second"), [("country", "DE", "NL"), ("source", "google", "newsletter")]
)
def test_orders_and_sessions_by_event_dimension(
    shop_with_orders: Shopkeeper, by: str, first: str, second: str
) -> None:
    shop = shop_with_orders
    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    with shop.db.sessions() as session:
        report = shop.analytics.kpis(session, "month", by, start, end)
    rows = {row["dimension"]: row for row in report.rows}
    assert set(rows) == {first, second}
    assert (rows[first]["orders"], rows[first]["revenue"], rows[first]["sessions"]) == (1, 50, 1)
    assert (rows[second]["orders"], rows[second]["revenue"], rows[second]["sessions"]) == (1, 30, 2)
    assert rows[second]["conversion_rate"] == pytest.approx(0.5)
    assert rows[first]["items_per_order"] == pytest.approx(3.0)
