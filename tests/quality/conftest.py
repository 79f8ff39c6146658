"""A small store with one planted problem per check, and the exact rows each check must find."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.quality.schemas import Scorecard
from shopkeeper.quality.service import QualityService

from . import factories as f
from .factories import NOW


@dataclass
class Expected:
    """``check id -> (affected, total, examples)`` for every check of the planted store."""

    counts: dict[str, tuple[int, int, set[str]]] = field(default_factory=dict)

    def add(self, check: str, affected: int, total: int, *examples: object) -> None:
        self.counts[check] = (affected, total, {str(e) for e in examples})


def scorecard(shop: Shopkeeper, table: str | None = None) -> Scorecard:
    with shop.db.sessions() as session:
        return QualityService(shop).scorecard(session, table)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


@pytest.fixture
def planted(shop: Shopkeeper) -> Expected:
    """Plant the problems; return what each check must report."""
    x = Expected()
    with shop.db.transaction() as s:
        # customers (c6 is merged away: it counts nowhere but in "still points to it")
        f.customer(s, "c1", "a@example.com")
        f.customer(s, "c2", "A@example.com")
        f.customer(s, "c3", None)
        f.customer(s, "c4", "not-an-email", first_seen=datetime(1985, 6, 1, tzinfo=UTC))
        f.customer(s, "c5", "e@example.com", last_seen=datetime(2026, 11, 10, tzinfo=UTC))
        f.customer(s, "c6", "a@example.com", merged_into="c1")
        x.add("customers.email_missing", 1, 5, "c3")
        x.add("customers.consent_missing", 1, 5, "c3")
        x.add("customers.email_invalid", 1, 4, "c4")
        x.add("customers.future_timestamp", 1, 5, "c5")
        x.add("customers.ancient_timestamp", 1, 5, "c4")
        x.add("customers.duplicate_email", 1, 4, "c1", "c2")

        i1 = f.identity(s, "c1", "email", "a@example.com")
        i2 = f.identity(s, "c2", "email", "A@Example.com")
        i3 = f.identity(s, "c4", "email", "not-an-email")
        i4 = f.identity(s, "c6", "user_id", "u6")
        i5 = f.identity(s, "c5", "user_id", "u5", at=datetime(2030, 1, 1, tzinfo=UTC))
        x.add("identities.email_invalid", 1, 3, i3.id)
        x.add("identities.future_timestamp", 1, 5, i5.id)
        x.add("identities.ancient_timestamp", 0, 5)
        x.add("identities.duplicate_email", 1, 3, i1.id, i2.id)
        x.add("identities.on_merged_customer", 1, 5, i4.id)

        k1 = f.consent(s, "c1", "email")
        k2 = f.consent(s, "c1", "email")
        k3 = f.consent(s, "c2", "telepathy")
        k4 = f.consent(s, "c4", "personalization", at=datetime(1970, 1, 2, tzinfo=UTC))
        k5 = f.consent(s, "c5", "email", at=datetime(2030, 1, 1, tzinfo=UTC))
        k6 = f.consent(s, "c6", "email")
        x.add("consents.purpose_unknown", 1, 6, k3.id)
        x.add("consents.future_timestamp", 1, 6, k5.id)
        x.add("consents.ancient_timestamp", 1, 6, k4.id)
        x.add("consents.duplicate", 1, 6, k1.id, k2.id)
        x.add("consents.on_merged_customer", 1, 6, k6.id)

        f.product(s, "P1")
        f.product(s, "P2", title=None, category=None, brand=None, price=None)
        f.product(s, "P3", price="0")
        f.product(s, "P4", price="5", currency="XXQ")
        f.product(s, "POST", title="POSTAGE", category=None, brand=None, price=None,
                  is_product=False)  # fmt: skip
        for check in ("title", "category", "brand", "price"):
            x.add(f"products.{check}_missing", 1, 4, "P2")
        x.add("products.price_not_positive", 1, 3, "P3")
        x.add("products.currency_unknown", 1, 5, "P4")
        x.add("products.non_product", 1, 5, "POST")

        t = NOW - timedelta(days=2)
        f.order(s, "o1", "c1", t, "20", [("P1", 2, "10")])
        f.order(s, "o2", "c1", t, "20", [("P1", 2, "10")])
        f.order(s, "o3", None, t + timedelta(hours=3), "5", [("P3", 1, "5")], currency=None)
        f.order(s, "o4", "c2", t + timedelta(hours=4), "-3", [("P1", -1, "3")], currency="ABC")
        f.order(s, "o5", "c2", t + timedelta(hours=5), "-10", [("P1", -1, "10")],
                status="cancelled")  # fmt: skip
        f.order(s, "o6", "c3", datetime(2026, 12, 1, tzinfo=UTC), "99",
                [("GHOST", 1, "10"), ("P4", 1, "-1")])  # fmt: skip
        f.order(s, "o7", "c5", datetime(1989, 5, 5, tzinfo=UTC), "0",
                [("P1", 1, "0", None), ("POST", 1, "0", "POSTAGE", False)])  # fmt: skip
        f.order(s, "o8", "c1", t + timedelta(hours=8), "12", [("P1", 1, "6"), ("P1", 1, "6")],
                status="refunded")  # fmt: skip
        x.add("orders.customer_missing", 1, 8, "o3")
        x.add("orders.currency_missing", 1, 8, "o3")
        x.add("orders.currency_unknown", 1, 8, "o4")
        x.add("orders.negative_total", 1, 8, "o4")
        x.add("orders.future_timestamp", 1, 8, "o6")
        x.add("orders.ancient_timestamp", 1, 8, "o7")
        x.add("orders.cancelled", 2, 8, "o5", "o8")
        x.add("orders.duplicate", 1, 7, "o1", "o2")
        x.add("orders.total_mismatch", 1, 8, "o6")

        x.add("order_lines.name_missing", 1, 11, "o7#0 P1")
        x.add("order_lines.negative_price", 1, 11, "o6#1 P4")
        x.add("order_lines.zero_price", 1, 10, "o7#0 P1")
        x.add("order_lines.quantity_not_positive", 1, 11, "o4#0 P1")
        x.add("order_lines.non_product", 1, 11, "o7#1 POST")
        x.add("order_lines.duplicate", 1, 11, "o8#0 P1", "o8#1 P1")
        x.add("order_lines.unknown_sku", 1, 11, "o6#0 GHOST")
        x.add("order_lines.import_duplicates", 0, 0)

        e1 = f.event(s, "page_viewed", ago(hours=1))
        f.event(s, "product_viewed", ago(minutes=50), sku="P1")
        f.event(s, "product_added", ago(minutes=40), sku="P1")
        e4 = f.event(s, "product_added", ago(minutes=30), anonymous_id="v2", sku="P3")
        f.event(s, "product_viewed", ago(minutes=35), anonymous_id=None, user_id="u5", sku="P1")
        f.event(s, "product_added", ago(minutes=30), anonymous_id=None, user_id="u5", sku="P1")
        f.event(s, "order_refunded", ago(minutes=20), anonymous_id="v3", order_id="o8")
        e8 = f.event(s, "order_cancelled", ago(minutes=19), anonymous_id="v4", order_id="nope")
        e9 = f.event(s, "order_refunded", ago(minutes=18), anonymous_id="v4")
        e10 = f.event(s, "signed_in", ago(minutes=17), anonymous_id=None, device_type=None,
                      source=None, medium=None)  # fmt: skip
        e11 = f.event(s, "order_completed", datetime(2027, 1, 1, tzinfo=UTC), anonymous_id="v5",
                      currency="ZZZ", received_at=NOW)  # fmt: skip
        e12 = f.event(s, "page_viewed", datetime(1980, 1, 1, tzinfo=UTC), anonymous_id="v6",
                      received_at=NOW)  # fmt: skip
        f.event(s, "page_viewed", ago(hours=3), anonymous_id="v7", received_at=NOW)
        e14 = f.event(s, "page_viewed", ago(hours=1))
        e15 = f.event(s, "product_viewed", ago(minutes=10), anonymous_id="v3", sku="GHOST")
        f.event(s, "email_opened", ago(days=5), anonymous_id="v8", source="newsletter",
                medium="email")  # fmt: skip
        x.add("events.identifier_missing", 1, 16, e10.id)
        x.add("events.device_missing", 1, 16, e10.id)
        x.add("events.source_missing", 1, 16, e10.id)
        x.add("events.currency_unknown", 1, 16, e11.id)
        x.add("events.future_timestamp", 1, 16, e11.id)
        x.add("events.ancient_timestamp", 1, 16, e12.id)
        x.add("events.duplicate", 1, 16, e1.id, e14.id)
        x.add("events.late", 2, 16)
        x.add("events.stale_source", 1, 3, "newsletter/email: 120h")
        x.add("events.stale_kind", 1, 8, "email_opened: 120h")
        x.add("events.cart_without_view", 1, 3, e4.id)
        x.add("events.refund_without_order", 2, 3, e8.id, e9.id)
        x.add("events.unknown_sku", 1, 6, e15.id)
        x.add("events.volume_anomaly", 0, 0)
    return x
