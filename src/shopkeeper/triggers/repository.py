"""Queries for triggers: a batch of people's recent events in one query, their past firings.

Every query takes the identifiers of many people at once (chunked for the drivers' parameter
limits), so evaluating a batch of arriving events costs a fixed handful of queries, not one
per event or per person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Row, null, select
from sqlalchemy.orm import Session

from shopkeeper.events.kinds import TRIGGER_FIRED
from shopkeeper.events.repository import EVENT_KEYS, event_owner
from shopkeeper.models import Event, Identity, Product

#: Identifiers per IN list (SQLite's default limit is 32,766 parameters; PostgreSQL's 65,535).
CHUNK = 500


def identities_of(
    session: Session, customer_ids: Iterable[str]
) -> dict[str, list[tuple[str, str]]]:
    """``customer_id -> [(kind, value), ...]`` of the userIds and anonymousIds of each.

    The kinds are picked here: given ``kind IN (...)`` too, SQLite walks the unique
    ``(kind, value)`` index through every userId and anonymousId of the shop instead of these
    customers' own entries."""
    wanted = sorted(set(customer_ids))
    found: dict[str, list[tuple[str, str]]] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(Identity.customer_id, Identity.kind, Identity.value).where(
                Identity.customer_id.in_(wanted[start : start + CHUNK])
            )
        )
        for customer_id, kind, value in rows:
            if kind in EVENT_KEYS:
                found.setdefault(customer_id, []).append((kind, value))
    return found


class _Side(NamedTuple):
    owner: ColumnElement[bool]
    #: (user_id, anonymous_id) as the side's index holds them: a userId's event is its user's
    #: whatever its anonymousId (``event_owner``), so the user index does not carry that.
    who: tuple[Any, Any]


_USER_WHO = (Event.user_id, null().label("anonymous_id"))
_ANONYMOUS_WHO = (Event.user_id, Event.anonymous_id)


def _owners(keys: Sequence[tuple[str, str]]) -> Iterable[_Side]:
    """Whose events to read: per chunk of ``keys``, each side of :func:`event_owner` alone
    (userIds; anonymousIds without a userId). Each side is read from its visitor index; an
    ``OR`` of the two makes SQLite collect row ids and fetch every row of these people, one
    scattered page of the log each, before it looks at their time or kind."""
    for start in range(0, len(keys), CHUNK):
        part = keys[start : start + CHUNK]
        user_ids = [v for k, v in part if k == "user_id"]
        anonymous_ids = [v for k, v in part if k == "anonymous_id"]
        if user_ids:
            yield _Side(event_owner(user_ids, ()), _USER_WHO)
        if anonymous_ids:
            yield _Side(event_owner((), anonymous_ids), _ANONYMOUS_WHO)


#: What a trigger may look at in an event (``EventFacts``), plus which row, all of it in the
#: visitor indexes (``models.events``), and the product's facts.
_EVENT_COLUMNS = (
    Event.id,
    Event.timestamp,
    Event.kind,
    Event.sku,
    Event.value,
    Event.query,
    Event.source,
    Event.medium,
    Event.campaign,
    Event.traffic_channel,
    Event.device_type,
    Event.country,
    Product.category_path.label("category"),
    Product.brand,
    Product.price_tier,
)


def recent_events(
    session: Session,
    keys: Sequence[tuple[str, str]],
    start: datetime,
    end: datetime,
    kinds: Iterable[str] | None = None,
) -> list[Row[Any]]:
    """Events of these identifiers with ``start < timestamp <= end`` (of ``kinds`` only, when
    given; trigger firings never), each with its product's category, brand and price tier;
    one query per chunk of identifiers and side of ``event_owner``.

    ``kinds`` are picked here, not in SQL: given ``kind IN (...)``, SQLite (without
    statistics) walks ``ix_events_kind_ts`` through the whole window of the shop and fetches
    every row to check its owner, far slower on a large store than reading these people's own
    index entries (``tests/triggers/test_repository.py``)."""
    rows: list[Row[Any]] = []
    connection = session.connection()  # Core rows: the ORM's result layer cost more than the query
    for side in _owners(keys):
        rows.extend(
            connection.execute(
                select(*side.who, *_EVENT_COLUMNS)
                .outerjoin(Product, Product.sku == Event.sku)
                .where(
                    side.owner,
                    Event.timestamp > start,
                    Event.timestamp <= end,
                    Event.kind != TRIGGER_FIRED,
                )
            )
        )
    if kinds is None:
        return rows
    wanted = frozenset(kinds)
    return [row for row in rows if row.kind in wanted]


#: A trigger firing, said so that SQLite cannot use ``ix_events_kind_ts`` for it: the plan it
#: prefers reads every firing of the shop in the window and fetches each row to check its
#: owner. Through the visitor indexes (which carry the kind) it reads these people's entries
#: and fetches only their firings' rows.
_A_FIRING = Event.kind.concat("") == TRIGGER_FIRED


def firings(session: Session, keys: Sequence[tuple[str, str]], *, limit: int) -> list[Event]:
    """The newest ``limit`` ``trigger_fired`` events of these identifiers, newest first."""
    found: list[Event] = []
    for side in _owners(keys):
        query = select(Event).where(side.owner, _A_FIRING)
        query = query.order_by(Event.timestamp.desc(), Event.id.desc())
        found.extend(session.scalars(query.limit(limit)))
    found.sort(key=lambda e: (e.timestamp, e.id), reverse=True)
    return found[:limit]


def fired_since(
    session: Session, keys: Sequence[tuple[str, str]], since: datetime
) -> list[tuple[str | None, str | None, datetime, str]]:
    """(userId, anonymousId, time, trigger name) of firings after ``since`` (cooldowns)."""
    found: list[tuple[str | None, str | None, datetime, str]] = []
    for side in _owners(keys):
        rows = session.execute(
            select(Event.user_id, Event.anonymous_id, Event.timestamp, Event.properties).where(
                side.owner, _A_FIRING, Event.timestamp > since
            )
        )
        found.extend((u, a, at, str((props or {}).get("trigger"))) for u, a, at, props in rows)
    return found


def sweep_candidates(
    session: Session, kinds: Iterable[str], start: datetime, end: datetime
) -> list[tuple[str | None, str | None]]:
    """Distinct (userId, anonymousId) pairs with an event of ``kinds`` in ``(start, end]``."""
    rows = session.execute(
        select(Event.user_id, Event.anonymous_id)
        .where(Event.kind.in_(sorted(kinds)), Event.timestamp > start, Event.timestamp <= end)
        .distinct()
    )
    return [(user_id, anonymous_id) for user_id, anonymous_id in rows]
