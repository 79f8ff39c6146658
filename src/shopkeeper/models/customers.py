"""Customers (profiles), their identities (aliases), merges and consents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopkeeper.models.base import Base


class Customer(Base):
    """A person, known or anonymous. A merged-away profile keeps its row (``merged_into_id``)
    so that the merge can be undone."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_seen_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    traits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    merged_into_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )


class Identity(Base):
    """One identifier of a customer: a userId, an anonymousId, an e-mail, a loyalty id..."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(32), default="event")


class Merge(Base):
    """The merge log: who was merged into whom, why, and a snapshot to undo it."""

    __tablename__ = "merges"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    winner_id: Mapped[str] = mapped_column(String(40), index=True)
    loser_id: Mapped[str] = mapped_column(String(40), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Consent(Base):
    """Consent history: one row per change; the latest row per purpose is in force."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_customer_purpose", "customer_id", "purpose", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool]
    source: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime]
