"""Persona models (clusterings of customers) and each customer's current persona."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from shopkeeper.models.base import Base


class PersonaModel(Base):
    """One fitted persona model: method, k, stability, scaler and centroids, and the cards.

    Not personal: it holds per-cluster aggregates only (sizes, feature means), never a
    customer id. ``params`` is everything needed to assign a new customer (feature names,
    scaler, centroids, GMM variances and weights); ``cards`` the persona cards as shown.
    """

    __tablename__ = "persona_models"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(16))
    k: Mapped[int] = mapped_column(SmallInteger)
    customers: Mapped[int]
    silhouette: Mapped[float] = mapped_column(Float)
    stability: Mapped[float | None] = mapped_column(Float)
    seed: Mapped[int]
    is_current: Mapped[bool] = mapped_column(default=False, index=True)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cards: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CustomerPersona(Base):
    """A customer's persona under the current model (replaced when a new model is fitted).

    Personal: erased with the customer (the row cascades with ``customers``).
    """

    __tablename__ = "customer_personas"
    __table_args__ = (Index("ix_customer_personas_model_cluster", "model_id", "cluster"),)

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[int] = mapped_column(ForeignKey("persona_models.id", ondelete="CASCADE"))
    cluster: Mapped[int] = mapped_column(SmallInteger)
    persona: Mapped[str] = mapped_column(String(64), index=True)
