"""Segments: stored rule definitions, who is in them over time, and their size over time.

A membership is an interval: ``entered_at`` when an evaluation first found the customer in the
segment, ``exited_at`` when a later one no longer did (NULL while still a member). At most one
open interval per customer and segment (a partial unique index on both backends). Memberships
are personal data and are erased with the customer; definitions and size snapshots are not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shopkeeper.models.base import Base

#: How a segment came to be: written as a rule, saved from a persona (clustering), built in.
SEGMENT_KINDS = ("rule", "persona", "builtin")


class Segment(Base):
    """A named rule (the JSON :func:`~shopkeeper.segments.rules.dump_rule` writes)."""

    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default="rule")
    rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    evaluated_at: Mapped[datetime | None]


class SegmentMembership(Base):
    """One stay of one customer in one segment. Personal: erased with the customer."""

    __tablename__ = "segment_memberships"
    __table_args__ = (
        Index("ix_segment_memberships_segment_open", "segment_id", "exited_at"),
        Index(
            "uq_segment_memberships_open",
            "segment_id",
            "customer_id",
            unique=True,
            sqlite_where=text("exited_at IS NULL"),
            postgresql_where=text("exited_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    segment_id: Mapped[str] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    entered_at: Mapped[datetime]
    exited_at: Mapped[datetime | None]


class SegmentSize(Base):
    """The segment's size after one evaluation, with how many entered and exited in it."""

    __tablename__ = "segment_sizes"
    __table_args__ = (Index("ix_segment_sizes_segment_at", "segment_id", "evaluated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    segment_id: Mapped[str] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    evaluated_at: Mapped[datetime]
    size: Mapped[int] = mapped_column(Integer)
    entered: Mapped[int] = mapped_column(Integer)
    exited: Mapped[int] = mapped_column(Integer)
