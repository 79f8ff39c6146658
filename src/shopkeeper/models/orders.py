"""Orders and their lines, from live events and from imports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from shopkeeper.models.base import Base

CHANNELS = ("web", "app", "store", "marketplace")
STATUSES = ("placed", "completed", "cancelled", "refunded", "partially_refunded")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_placed", "customer_id", "placed_at"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16), default="web")
    status: Mapped[str] = mapped_column(String(24), default="completed")
    currency: Mapped[str | None] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 4), default=Decimal(0))
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    shipping: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    tax: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    discount: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    refunded: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    coupon: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(
        String(320), doc="Personal: erased with the customer."
    )
    source: Mapped[str] = mapped_column(String(32), default="event")
    placed_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    sku: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str | None] = mapped_column(String(500))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    is_product: Mapped[bool] = mapped_column(default=True)
