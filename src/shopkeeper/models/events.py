"""The append-only event log. Typed columns for what is queried, JSON for the rest.

Events carry the identifiers they arrived with (``user_id``, ``anonymous_id``), never a
customer id: a profile is a set of identities, so merging or undoing a merge never rewrites
the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from shopkeeper.models.base import Base

#: What the per-visitor indexes carry after (owner, timestamp): everything a profile
#: (``customers.repository.PROFILE_EVENT_COLUMNS``) and a trigger (``triggers.repository``) read
#: of a person's events, and serving's kind, sku and source.
_COVERED = (
    "kind",
    "sku",
    "source",
    "session_id",
    "query",
    "channel",
    "device_type",
    "country",
    "city",
    "medium",
    "traffic_channel",
    "value",
    "campaign",
)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        # An event belongs to its userId when it has one, else to its anonymousId
        # (``customers.repository.event_owner``), so each event has an entry in exactly one
        # of these two: one random index insert per ingested event, not two (migration 0005).
        # The columns after the time ride along so that recommendation serving, a profile and
        # the triggers read a person's events without fetching the rows (migrations
        # 0003_serving, 0007).
        Index(
            "ix_events_user_ts",
            "user_id",
            "timestamp",
            *_COVERED,
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "ix_events_anon_ts",
            "anonymous_id",
            "timestamp",
            *_COVERED,
            "user_id",  # always NULL here (1 byte), so SQLite can check the WHERE from the index
            sqlite_where=text("user_id IS NULL"),
            postgresql_where=text("user_id IS NULL"),
        ),
        Index("ix_events_kind_ts", "kind", "timestamp"),
        # ids are never reused, even after the newest events are erased: the projector's
        # position (the last id it applied) must stay behind every event still to come.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    #: Unique across the log, kept so by the writers (``events.repository``), not by an index
    #: here: see :class:`MessageId`.
    message_id: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    event: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str | None] = mapped_column(String(320))
    anonymous_id: Mapped[str | None] = mapped_column(String(320))
    #: ``alias`` calls only: the identifier being joined to ``user_id``.
    previous_id: Mapped[str | None] = mapped_column(String(320))
    timestamp: Mapped[datetime]
    received_at: Mapped[datetime]
    session_id: Mapped[str | None] = mapped_column(String(100))
    sku: Mapped[str | None] = mapped_column(String(100))
    order_id: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    query: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str | None] = mapped_column(String(40))
    medium: Mapped[str | None] = mapped_column(String(40))
    campaign: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(16))
    #: Marketing channel the event shows (``segments/traffic.py``); ``channel`` above is the
    #: sales channel (web, app, store).
    traffic_channel: Mapped[str | None] = mapped_column(String(20))
    device_type: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    page_url: Mapped[str | None] = mapped_column(String(2000))
    referrer: Mapped[str | None] = mapped_column(String(2000))
    locale: Mapped[str | None] = mapped_column(String(35))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    traits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MessageId(Base):
    """The messageIds of the events up to the ``message-ids`` position (``projections``),
    and of every erased event: the index that deduplicates ingest.

    Events after that position (the newest, up to ``events.repository.MERGE_EVERY``) are
    checked against the log itself, which each writing process keeps in memory; then the
    writer that crosses the mark merges them in here, sorted, in one statement. A unique index
    on ``events.message_id`` cost a random page per appended event instead (a random UUID
    lands anywhere in it), which was most of an append on SQLite (migration 0006).
    """

    __tablename__ = "event_message_ids"
    __table_args__ = ({"sqlite_with_rowid": False},)

    message_id: Mapped[str] = mapped_column(String(100), primary_key=True)


class Projection(Base):
    """How far a consumer of the event log has got: the id of the last event it applied.

    The fact projector (identities, products, orders) advances its row in the same
    transaction as the facts it applies, so a crash never applies an event twice or skips one.
    """

    __tablename__ = "projections"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]
