"""Products of the shop's catalog."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from shopkeeper.models.base import Base


class Product(Base):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(500))
    category_path: Mapped[str | None] = mapped_column(String(500), index=True)
    brand: Mapped[str | None] = mapped_column(String(200), index=True)
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    price_tier: Mapped[str | None] = mapped_column(String(16))
    in_stock: Mapped[bool] = mapped_column(default=True)
    is_product: Mapped[bool] = mapped_column(
        default=True, doc="False for postage, fees, discounts and other non-product codes."
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
