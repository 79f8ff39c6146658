"""A small hand-built shop with known segment members (rows straight into the store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shopkeeper.application import Shopkeeper
from tests.customers import factories as f
from tests.segments.examples import TODDLER_PREMIUM

T0 = f.T0
BUYERS: dict[str, Any] = {"field": "orders", "op": ">=", "value": 1}
BIG_SPENDERS: dict[str, Any] = {"field": "revenue", "op": ">=", "value": 100}
TODDLER = TODDLER_PREMIUM


@dataclass
class Shop:
    ann: str
    bob: str
    cy: str


def build(shop: Shopkeeper) -> Shop:
    """ann: toddler-premium browser, 2 orders (150), e-mail and advertising consent.
    bob: budget toddler browser, 1 order (40), advertising refused. cy: anonymous visitor."""
    with shop.db.transaction() as s:
        for i, tier in enumerate(["premium", "premium", "premium", "budget", "premium"]):
            f.product(
                s, f"sku-{i}", category_path="kids/toddler/shoes", brand="acme", price_tier=tier
            )
        ann = f.customer(
            s,
            email=" Test@Example.com ",
            first_seen=T0 - timedelta(days=100),
            identities=[("user_id", "ann"), ("anonymous_id", "anon-a")],
        )
        bob = f.customer(
            s,
            email="bob@example.com",
            first_seen=T0 - timedelta(days=50),
            identities=[("user_id", "bob")],
        )
        cy = f.customer(
            s, first_seen=T0 - timedelta(days=1), identities=[("anonymous_id", "anon-c")]
        )
        for day, sku in [(1, "sku-0"), (2, "sku-1"), (3, "sku-2"), (4, "sku-3"), (5, "sku-4")]:
            f.event(
                s,
                "product_viewed",
                T0 - timedelta(days=day),
                user_id="ann",
                sku=sku,
                source="email",
            )
        for day in range(1, 6):
            f.event(s, "product_viewed", T0 - timedelta(days=day), user_id="bob", sku="sku-3")
        f.event(
            s, "page_viewed", T0 - timedelta(hours=3), anonymous_id="anon-c", source="paid_social"
        )
        f.order(s, ann, T0 - timedelta(days=20), total="100.00")
        f.order(s, ann, T0 - timedelta(days=10), total="50.00")
        f.order(s, bob, T0 - timedelta(days=30), total="40.00")
        f.consent(s, ann, "advertising", True)
        f.consent(s, ann, "email", True)
        f.consent(s, bob, "advertising", False)
        return Shop(ann=ann.id, bob=bob.id, cy=cy.id)
