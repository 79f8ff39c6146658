"""Event-log queries used by ingest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shopkeeper.models import Event, Identity


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert events whose messageId is new; return the messageIds actually inserted."""
    if not rows:
        return set()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Event)
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(Event.message_id)
    )
    result = session.connection().execute(statement, list(rows))
    return set(result.scalars())


def customer_ids_for(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Map (kind, value) identifiers to their customer id, in one query."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(Identity.kind, Identity.value, Identity.customer_id).where(
                tuple_(Identity.kind, Identity.value).in_(chunk)
            )
        )
        for kind, value, customer_id in rows:
            found[(kind, value)] = customer_id
    return found
