"""Event-log queries used by ingest and by the fact projector."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, BindParameter, ColumnElement, and_, false, func, or_, select, update
from sqlalchemy.orm import Session

from shopkeeper.events import dedup
from shopkeeper.events.decoding import dump as dump_json
from shopkeeper.events.rows import COLUMNS, Encoding
from shopkeeper.models import Event, Projection
from shopkeeper.models.base import UTCDateTime

_JSON = frozenset(c.name for c in Event.__table__.columns if isinstance(c.type, JSON))
_TIME = frozenset(c.name for c in Event.__table__.columns if isinstance(c.type, UTCDateTime))


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert events whose messageId is new; return the messageIds actually inserted."""
    if not rows:
        return set()
    return insert_encoded(session, encode(session.get_bind().dialect.name, rows))


def encode(dialect: str, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Rows given by column name (triggers' and imports' events) as the driver's parameters
    for ``dialect``, in :data:`COLUMNS` order, as ingest's
    :func:`~shopkeeper.events.normalize.event_values` builds them.

    Rows go to the driver directly (SQLAlchemy's per-row parameter processing cost more than
    the insert itself). Values are converted exactly as the column types would convert them;
    ``tests/events`` reads them back through the ORM. Plain values only, so a bulk load can
    encode in one process and append in another.
    """
    encoding = encoding_for(dialect)
    return [_values(row, encoding) for row in rows]


def insert_encoded(session: Session, encoded: Sequence[list[Any]]) -> set[str]:
    """Insert :func:`encode`-d events whose messageId is new to the log (the first of each);
    the messageIds inserted. Call it in a transaction that writes (``db.transaction()``)."""
    if not encoded:
        return set()
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect not in _INSERT:
        raise NotImplementedError(f"no event writer for {dialect}")
    raw: Any = connection.connection.driver_connection
    if dialect == "postgresql":
        lock_appends(raw)
    fresh, recent, position = dedup.fresh(raw, dialect, connection.engine, encoded, MESSAGE_ID_AT)
    if fresh:
        if dialect == "postgresql":
            with raw.cursor() as cursor:
                cursor.executemany(_INSERT[dialect], fresh)
        else:
            raw.executemany(_INSERT[dialect], fresh)
    dedup.appended(raw, dialect, recent, position, fresh, MESSAGE_ID_AT)
    return {values[MESSAGE_ID_AT] for values in fresh}


def merge_message_ids(session: Session) -> None:
    """Merge every stored messageId into the deduplication index (``events.dedup.merge``)."""
    connection = session.connection()
    raw: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        lock_appends(raw)
    dedup.merge(raw, connection.dialect.name)


def lock_appends(raw: Any) -> None:
    """PostgreSQL: wait for :data:`APPEND_LOCK`, held to the end of the transaction."""
    raw.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))


#: Where the messageId is in an encoded row.
MESSAGE_ID_AT = COLUMNS.index("message_id")

#: Taken by every transaction that appends events on PostgreSQL, so events commit in id order
#: and a projector reading ``id > position`` can never pass over an id that commits later (and
#: no two appends check messageIds at once: ``events.dedup``).
APPEND_LOCK = 0x5348_4F50  # "SHOP"

_INSERT = {
    "sqlite": f"INSERT INTO events ({', '.join(COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' * len(COLUMNS))})",
    "postgresql": f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES "  # noqa: S608
    f"({', '.join('CAST(%s AS jsonb)' if name in _JSON else '%s' for name in COLUMNS)})",
}


_JSON_AT = tuple(i for i, name in enumerate(COLUMNS) if name in _JSON)
_TIME_AT = tuple(i for i, name in enumerate(COLUMNS) if name in _TIME)


_ALL_COLUMNS = itemgetter(*COLUMNS)


def _values(row: dict[str, Any], encoding: Encoding) -> list[Any]:
    try:
        given = _ALL_COLUMNS(row)  # event_row gives every column: one C call
    except KeyError:
        given = tuple(row.get(name) for name in COLUMNS)
    null = encoding.null
    values = [null if value is None else value for value in given]
    for i in _JSON_AT:
        values[i] = encoding.json(given[i] if given[i] is not None else {})
    for i in _TIME_AT:
        if given[i] is not None:
            values[i] = encoding.time(given[i])
    return values


#: What an encoded SQLite row carries for NULL. Python's ``sqlite3`` binds ``None`` through its
#: adapter lookup (a tuple, a dict probe and two attribute lookups), and an event row
#: has about twenty; a float goes straight to ``sqlite3_bind_double``, which binds a NaN as NULL
#: (SQLite never stores a NaN). That took a third off the writer's append
#: (``python -m benchmarks.ingest_instructions``).
SQLITE_NULL = float("nan")


def _json_text(value: Any) -> str:
    return dump_json(value).decode()


def _sqlite_time(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime writes: naive UTC with microseconds
    (``2025-01-06 09:00:00.000000``). Formatted by orjson: ``datetime.isoformat`` and
    ``replace`` parse their arguments on every call, and were a tenth of a worker's ingest."""
    if value is None:
        return None
    if value.tzinfo is not None and value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    stamp = orjson.dumps(value, option=_NAIVE_UTC_Z).decode()  # "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"
    return f"{stamp[1:11]} {stamp[12:20]}{stamp[20:-2] or '.000000'}"


_NAIVE_UTC_Z = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def _pg_time(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


#: How each dialect's driver takes an event row (:func:`encode`,
#: :func:`~shopkeeper.events.normalize.event_values`).
ENCODINGS = {
    "sqlite": Encoding(_sqlite_time, _json_text, SQLITE_NULL),
    "postgresql": Encoding(_pg_time, _json_text),
}


def encoding_for(dialect: str) -> Encoding:
    """How ``dialect``'s driver takes an event row."""
    if dialect not in ENCODINGS:
        raise NotImplementedError(f"no event writer for {dialect}")
    return ENCODINGS[dialect]


def customer_ids_for(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Map (kind, value) identifiers to their customer id.

    Through :func:`~shopkeeper.identities.repository.identities_by_keys` (``value IN`` lists
    the unique index serves): a row-value ``(kind, value) IN (VALUES ...)`` made SQLite scan
    the whole identities table once per chunk, per projected batch and per trigger batch.
    """
    from shopkeeper.identities.repository import identities_by_keys

    return {
        (row.kind, row.value): row.customer_id for row in identities_by_keys(session, set(keys))
    }


#: The identity kinds events carry (``userId``, ``anonymousId``): an event's owner is one.
EVENT_KEYS = frozenset({"user_id", "anonymous_id"})
#: A list of identifiers, or a bound ``expanding`` parameter that will hold one.
Identifiers = Sequence[str] | BindParameter[Any]


def event_owner(user_ids: Identifiers, anonymous_ids: Identifiers) -> ColumnElement[bool]:
    """Events that belong to these identifiers: sent with one of the userIds, or sent with one
    of the anonymousIds **and no userId**. An event with a userId is its user's, whatever
    device cookie it carries (the anonymousId of someone who logs in as another person on a
    shared device must not pull that person's events into the first profile).

    Each side is served by its partial ``(id, timestamp)`` index (``models.events``): SQLite
    reads the two with its OR-by-union, PostgreSQL with a BitmapOr, so the cost follows the
    customer, not the store.
    """
    terms: list[ColumnElement[bool]] = []
    if isinstance(user_ids, BindParameter) or user_ids:
        terms.append(Event.user_id.in_(user_ids))
    if isinstance(anonymous_ids, BindParameter) or anonymous_ids:
        terms.append(and_(Event.user_id.is_(None), Event.anonymous_id.in_(anonymous_ids)))
    return or_(*terms) if terms else false()


#: What :func:`~shopkeeper.events.normalize.facts_of` reads from a stored event.
FACT_COLUMNS = (
    Event.id,
    Event.type,
    Event.kind,
    Event.user_id,
    Event.anonymous_id,
    Event.previous_id,
    Event.timestamp,
    Event.sku,
    Event.order_id,
    Event.channel,
    Event.currency,
    Event.properties,
    Event.traits,
    Event.context,
)


def claim_position(session: Session, name: str, now: datetime) -> int:
    """Lock consumer ``name``'s position row (creating it at 0) and return the position.

    The lock is held to the end of the transaction, so two projectors (threads or server
    processes) never apply the same events: the second waits, then sees the advanced position.
    """
    query = select(Projection.position).where(Projection.name == name)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    position = session.execute(query).scalar_one_or_none()
    if position is None:
        session.add(Projection(name=name, position=0, updated_at=now))
        session.flush()
        return 0
    return position


def advance_position(session: Session, name: str, position: int, now: datetime) -> None:
    session.execute(
        update(Projection).where(Projection.name == name).values(position=position, updated_at=now)
    )


_FACT_NAMES = tuple(c.key for c in FACT_COLUMNS)
_FACT_SQLITE = f"SELECT {', '.join(_FACT_NAMES)} FROM events WHERE id > ? ORDER BY id LIMIT ?"  # noqa: S608
_FACT_JSON = tuple(i for i, name in enumerate(_FACT_NAMES) if name in _JSON)
_FACT_TIME = tuple(i for i, name in enumerate(_FACT_NAMES) if name in _TIME)


def events_after(session: Session, position: int, limit: int | None) -> list[dict[str, Any]]:
    """Events with ``id > position`` in id order, as plain dicts of :data:`FACT_COLUMNS`.

    The projector's hot read: on SQLite it goes to the driver and decodes the JSON and
    time columns itself, as the column types would (half the cost of a typed select).
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw: Any = connection.connection.driver_connection
        cursor = raw.execute(_FACT_SQLITE, (position, -1 if limit is None else limit))
        return [_fact_row(list(values)) for values in cursor]
    query = select(*FACT_COLUMNS).where(Event.id > position).order_by(Event.id)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row) for row in session.execute(query).mappings()]


def _fact_row(values: list[Any]) -> dict[str, Any]:
    for i in _FACT_JSON:
        if values[i] is not None:
            values[i] = orjson.loads(values[i])
    for i in _FACT_TIME:
        if values[i] is not None:
            values[i] = datetime.fromisoformat(values[i]).replace(tzinfo=UTC)
    return dict(zip(_FACT_NAMES, values, strict=True))


def newest_id(session: Session) -> int:
    """The id of the last event appended (0 for none): the end of the primary key."""
    return session.execute(select(func.max(Event.id))).scalar_one() or 0


def count_after(session: Session, position: int, *, skipping: frozenset[str]) -> int:
    """Events after ``position`` whose kind is not in ``skipping`` (a primary-key range)."""
    return session.execute(
        select(func.count()).where(Event.id > position, Event.kind.not_in(skipping))
    ).scalar_one()


def position_of(session: Session, name: str) -> int:
    found = session.execute(
        select(Projection.position).where(Projection.name == name)
    ).scalar_one_or_none()
    return found or 0
