"""A small shop: a tea corner, a coffee corner, one customer to erase, one sold-out teacup.

Orders arrive as Segment ``Order Completed`` events (which create the customers and orders),
products through ``shop.catalog.upsert``; the fixed clock is 2026-11-02 12:00 UTC.
"""

from __future__ import annotations

from typing import Any

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.catalog.schemas import ProductIn

PRODUCTS = [
    ("tea-green", "Green Tea", "drinks/tea", "Leafy"),
    ("tea-black", "Black Tea", "drinks/tea", "Leafy"),
    ("teapot", "Glass Teapot", "kitchen/teaware", "Potter"),
    ("mug", "Stoneware Mug", "kitchen/teaware", "Potter"),
    ("cup", "Porcelain Cup", "kitchen/teaware", "Cupco"),
    ("teacup-sold-out", "Porcelain Teacup", "kitchen/teaware", "Potter"),
    ("kettle", "Electric Kettle", "kitchen/appliances", "Boil"),
    ("coffee", "Coffee Beans", "drinks/coffee", "Beanco"),
    ("grinder", "Coffee Grinder", "kitchen/appliances", "Beanco"),
    ("rare-rake", "Bamboo Rake", "garden/tools", "Solo"),
]

#: userId → baskets (day of October 2026, skus).
ORDERS: dict[str, list[tuple[int, list[str]]]] = {
    "u-tea-1": [(1, ["teapot", "tea-green", "mug"]), (15, ["tea-green"]), (29, ["tea-green"])],
    "u-tea-2": [(2, ["teapot", "tea-green", "cup"]), (16, ["tea-green", "tea-black"])],
    "u-tea-3": [(3, ["teapot", "mug", "teacup-sold-out"]), (20, ["tea-black", "cup"])],
    "u-coffee-1": [(4, ["coffee", "grinder"]), (18, ["coffee", "kettle"])],
    "u-coffee-2": [(5, ["coffee", "grinder", "mug"]), (25, ["coffee"])],
    "erase-me-user": [(6, ["rare-rake", "kettle"])],
}


def order_event(user: str, n: int, day: int, skus: list[str]) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": user,
        "messageId": f"order-{user}-{n}",
        "timestamp": f"2026-10-{day:02d}T10:00:00Z",
        "properties": {
            "order_id": f"{user}-{n}",
            "total": 10.0 * len(skus),
            "currency": "EUR",
            "products": [{"product_id": s, "price": 10, "quantity": 1} for s in skus],
        },
    }


def view_event(
    sku: str, n: int, *, user: str | None = None, anonymous: str | None = None, **extra: Any
) -> dict[str, Any]:
    who = {"userId": user} if user else {"anonymousId": anonymous}
    return {
        "type": "track",
        "event": "Product Viewed",
        **who,
        "messageId": f"view-{user or anonymous}-{sku}-{n}",
        "timestamp": f"2026-11-02T11:{n:02d}:00Z",
        "properties": {"product_id": sku},
        **extra,
    }


def add_products(shop: Shopkeeper, rows: list[tuple[str, str, str, str]], **fields: Any) -> None:
    with shop.db.transaction() as session:
        shop.catalog.upsert(
            session,
            [
                ProductIn.model_validate(
                    {
                        "sku": sku,
                        "title": title,
                        "category_path": category,
                        "brand": brand,
                        "in_stock": sku != "teacup-sold-out",
                        **fields,
                    }
                )
                for sku, title, category, brand in rows
            ],
            partial=False,
        )


@pytest.fixture
def store(shop: Shopkeeper) -> Shopkeeper:
    """The shop with its catalogue, orders and a google-referred anonymous visitor's views."""
    add_products(shop, PRODUCTS)
    events = [
        order_event(user, n, day, skus)
        for user, baskets in ORDERS.items()
        for n, (day, skus) in enumerate(baskets)
    ]
    google: dict[str, Any] = {"campaign": {"source": "google", "medium": "cpc"}}
    events += [view_event("kettle", n, anonymous="anon-google", context=google) for n in range(3)]
    events.append({"type": "identify", "userId": "newbie", "messageId": "id-newbie"})
    result = shop.events.ingest(events)
    assert not result.errors, result.errors
    return shop


@pytest.fixture
def trained(store: Shopkeeper) -> Shopkeeper:
    store.recommendations.train()
    return store
