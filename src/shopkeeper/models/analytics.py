"""Analytics results written back to profiles, so segments and decisions can use them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from shopkeeper.models.base import Base


class CustomerScore(Base):
    """One customer's latest RFM scores and lifetime value (rewritten when a write-back changes
    them; ``computed_at`` is that write-back's time).

    Personal: erased with the customer (the row cascades with ``customers``).
    """

    __tablename__ = "customer_scores"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    rfm_r: Mapped[int] = mapped_column(SmallInteger)
    rfm_f: Mapped[int] = mapped_column(SmallInteger)
    rfm_m: Mapped[int] = mapped_column(SmallInteger)
    rfm_segment: Mapped[str] = mapped_column(String(32), index=True)
    clv: Mapped[float | None] = mapped_column(Float)
    clv_low: Mapped[float | None] = mapped_column(Float)
    clv_high: Mapped[float | None] = mapped_column(Float)
    p_alive: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime]
