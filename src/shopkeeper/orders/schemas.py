"""Order input shapes, shared by event ingest (``Order Completed``...) and importers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=100)
    name: str | None = None
    quantity: int = 1
    unit_price: Decimal = Decimal(0)
    is_product: bool = True


class OrderIn(BaseModel):
    """An order. ``customer_id`` is a resolved Shopkeeper customer id, or None (anonymous order).

    Recording an order that exists replaces its lines and header (idempotent).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    customer_id: str | None = None
    channel: str = Field("web", pattern="^(web|app|store|marketplace)$")
    status: str = Field(
        "completed", pattern="^(placed|completed|cancelled|refunded|partially_refunded)$"
    )
    currency: str | None = None
    total: Decimal = Decimal(0)
    revenue: Decimal | None = None
    shipping: Decimal | None = None
    tax: Decimal | None = None
    discount: Decimal | None = None
    coupon: str | None = None
    email: str | None = None
    source: str = "event"
    placed_at: datetime
    lines: list[OrderLineIn] = Field(default_factory=list)
