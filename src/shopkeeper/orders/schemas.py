"""Order input shapes, shared by event ingest (``Order Completed``...) and importers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

#: Amounts are stored as ``Numeric(14, 4)``; anything outside would overflow PostgreSQL's
#: column, so it is refused here as bad input rather than failing the whole batch later.
Money = Annotated[Decimal, Field(gt=Decimal("-1e10"), lt=Decimal("1e10"))]


class OrderLineIn(BaseModel):
    """One line. ``is_product=None`` means "decide from the sku and name" with
    :func:`shopkeeper.catalog.codes.is_non_product` (postage, fees, vouchers are not products).
    """

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=100)
    name: str | None = Field(None, max_length=500)
    quantity: int = Field(1, ge=-(2**31), le=2**31 - 1)
    unit_price: Money = Decimal(0)
    is_product: bool | None = None


class OrderIn(BaseModel):
    """An order. ``customer_id`` is a resolved Shopkeeper customer id, or None (anonymous order).

    Recording an order that exists replaces its lines and header (idempotent).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    customer_id: str | None = Field(None, max_length=40)
    channel: str = Field("web", pattern="^(web|app|store|marketplace)$")
    status: str = Field(
        "completed", pattern="^(placed|completed|cancelled|refunded|partially_refunded)$"
    )
    currency: str | None = Field(None, min_length=3, max_length=3)
    total: Money = Decimal(0)
    revenue: Money | None = None
    shipping: Money | None = None
    tax: Money | None = None
    discount: Money | None = None
    refunded: Money | None = None
    coupon: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=320)
    source: str = Field("event", max_length=32)
    placed_at: datetime
    lines: list[OrderLineIn] = Field(default_factory=list)
