"""messageId deduplication for appends: which of the events offered are new to the log.

A unique index on ``events.message_id`` would cost a random index page per appended event:
messageIds are random UUIDs, so each lands anywhere in an index as large as the log, and on
SQLite every page a commit dirties is written to the WAL and copied back by the checkpoint.
That was most of an append. So the log is deduplicated in two levels instead:

- ``event_message_ids`` (:class:`~shopkeeper.models.MessageId`) holds the messageIds of the
  events up to the ``message-ids`` position in ``projections`` (and those of erased events);
- the events after it (fewer than :data:`MERGE_EVERY`) are checked against the log itself:
  each writing process keeps their messageIds in memory (:class:`_Recent`) and reads only the
  rows appended since it last looked.

The writer that takes the newest events :data:`MERGE_EVERY` past the position merges their
messageIds into ``event_message_ids`` in one sorted ``INSERT ... SELECT``, where many of them
share each page it writes. All of it runs under the append lock (SQLite's write lock, which
:func:`claim` takes if the transaction does not hold it yet; PostgreSQL's ``APPEND_LOCK``), so
no two writers check at once: a messageId is stored once, ever — even after its event is
erased, so an SDK retrying after an erasure cannot bring the event back.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

#: The ``projections`` row: the id of the last event whose messageId is in
#: ``event_message_ids``.
NAME = "message-ids"
#: How many of the newest events are checked against the log (in each writing process's
#: memory, ~12 MB) before they are merged into ``event_message_ids``. A merge writes each page
#: of that index it touches once; with 100,000 messageIds and an index of a million, most
#: pages take several.
MERGE_EVERY = 100_000


@dataclass
class _Recent:
    """A process's copy of the messageIds of the events after ``position``, read up to
    ``seen`` (whose messageId is ``last``: if that row has gone, a transaction that appended
    it rolled back, and the copy is read again)."""

    position: int
    seen: int = field(init=False)
    last: str | None = None
    ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.seen = self.position


@dataclass(frozen=True)
class _SQL:
    """The statements, with ``?`` marks (SQLite's; PostgreSQL's driver takes ``%s``)."""

    #: Takes the append lock on SQLite (a write), and a row lock on PostgreSQL.
    claim: str = "UPDATE projections SET position = position WHERE name = ? RETURNING position"
    create: str = "INSERT INTO projections (name, position, updated_at) VALUES (?, 0, ?)"
    at: str = "SELECT message_id FROM events WHERE id = ?"
    since: str = "SELECT id, message_id FROM events WHERE id > ? ORDER BY id"
    newest: str = "SELECT max(id) FROM events"
    merge: str = (
        "INSERT INTO event_message_ids (message_id) SELECT message_id FROM events "
        "WHERE id > ? AND id <= ? ORDER BY message_id ON CONFLICT DO NOTHING"
    )
    advance: str = "UPDATE projections SET position = ?, updated_at = ? WHERE name = ?"
    sqlite: bool = True

    def for_postgresql(self) -> _SQL:
        marked = {k: v.replace("?", "%s") for k, v in vars(self).items() if isinstance(v, str)}
        return _SQL(**marked, sqlite=False)


_STATEMENTS = {"sqlite": _SQL(), "postgresql": _SQL().for_postgresql()}
#: Per database (its SQLAlchemy engine) in this process.
_RECENT: WeakKeyDictionary[Any, _Recent] = WeakKeyDictionary()
_GUARD = threading.Lock()


def fresh(
    raw: Any, dialect: str, engine: Any, encoded: Sequence[list[Any]], at: int
) -> tuple[list[list[Any]], _Recent, int]:
    """The rows of ``encoded`` whose messageId (``row[at]``) the log has not taken, first of
    each only; the process's :class:`_Recent` and the merge position, for :func:`appended`.

    ``raw`` is the transaction's DBAPI connection; on SQLite this takes the write lock."""
    sql = _STATEMENTS[dialect]
    position = claim(raw, sql)
    with _GUARD:
        recent = _RECENT.get(engine)
        if recent is None or recent.position != position or not _intact(raw, sql, recent):
            recent = _RECENT[engine] = _Recent(position)
    for event_id, message_id in raw.execute(sql.since, (recent.seen,)).fetchall():
        recent.ids.add(message_id)
        recent.seen, recent.last = event_id, message_id
    candidates: dict[str, list[Any]] = {}
    for values in encoded:
        if values[at] not in recent.ids:
            candidates.setdefault(values[at], values)
    taken = _merged(raw, dialect, list(candidates))
    return [v for m, v in candidates.items() if m not in taken], recent, position


def appended(
    raw: Any, dialect: str, recent: _Recent, position: int, rows: Sequence[list[Any]], at: int
) -> None:
    """After :func:`fresh`'s rows are inserted: remember them, and merge the newest events'
    messageIds into ``event_message_ids`` once there are :data:`MERGE_EVERY` of them."""
    if not rows:
        return
    sql = _STATEMENTS[dialect]
    newest = raw.execute(sql.newest).fetchone()[0]
    recent.ids.update(values[at] for values in rows)
    recent.seen, recent.last = newest, rows[-1][at]
    if newest - position >= MERGE_EVERY:
        _merge(raw, sql, position, newest)


def merge(raw: Any, dialect: str) -> None:
    """Merge every event's messageId into ``event_message_ids`` now: before an erasure
    deletes events, so that their ids stay taken. Take the append lock first on PostgreSQL."""
    sql = _STATEMENTS[dialect]
    position = claim(raw, sql)
    newest = raw.execute(sql.newest).fetchone()[0] or 0
    if newest > position:
        _merge(raw, sql, position, newest)


def _merge(raw: Any, sql: _SQL, position: int, newest: int) -> None:
    raw.execute(sql.merge, (position, newest))
    raw.execute(sql.advance, (newest, _now(sql), NAME))


def claim(raw: Any, sql: _SQL) -> int:
    """The merge position, its row locked (on SQLite: the write lock taken)."""
    found = raw.execute(sql.claim, (NAME,)).fetchall()
    if found:
        return int(found[0][0])
    raw.execute(sql.create, (NAME, _now(sql)))
    return 0


def _now(sql: _SQL) -> Any:
    """Now, as the ``updated_at`` column stores it (SQLite: the text SQLAlchemy writes)."""
    now = datetime.now(UTC)
    return now.replace(tzinfo=None).isoformat(" ", "microseconds") if sql.sqlite else now


def _intact(raw: Any, sql: _SQL, recent: _Recent) -> bool:
    if recent.last is None:
        return True
    found = raw.execute(sql.at, (recent.seen,)).fetchone()
    return found is not None and found[0] == recent.last


def _merged(raw: Any, dialect: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    if dialect == "postgresql":
        query = "SELECT message_id FROM event_message_ids WHERE message_id = ANY(%s)"
        return {row[0] for row in raw.execute(query, (ids,)).fetchall()}
    taken: set[str] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        query = f"SELECT message_id FROM event_message_ids WHERE message_id IN ({marks})"  # noqa: S608
        taken.update(row[0] for row in raw.execute(query, chunk))
    return taken
