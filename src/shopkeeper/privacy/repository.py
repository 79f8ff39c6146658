"""Every query privacy needs: who a person is across profiles, and where their data lives.

A *person* is a live customer plus every profile merged into them (transitively); their
*personal values* are those profiles' ids, every identity value (userId, anonymousId, e-mail,
loyalty id...) and every e-mail the profiles carry. Events hold no customer id, so they are
found through those values (see :func:`events_of`).

Every table of the store is declared in :data:`PERSONAL_TABLES` or :data:`NON_PERSONAL_TABLES`;
``tests/privacy/test_erasure.py`` fails when a table is in neither, so a new table cannot
silently escape erasure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Text,
    delete,
    false,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from shopkeeper.events.repository import merge_message_ids
from shopkeeper.models import (
    AuditEntry,
    Consent,
    Customer,
    Event,
    Identity,
    Merge,
    Order,
    OrderLine,
    SegmentMembership,
)

#: Tables erasure touches, and how: "delete" rows, "anonymise" personal columns, "pseudonymise"
#: mentions. Keep in step with :meth:`shopkeeper.privacy.service.PrivacyService.erase`.
PERSONAL_TABLES: dict[str, str] = {
    "customers": "delete",
    "identities": "delete",
    "events": "delete",
    "consents": "delete",
    "merges": "delete",
    "orders": "anonymise",
    "audit_log": "pseudonymise",
    "customer_scores": "delete",
    "segment_memberships": "delete",
    "customer_personas": "delete",
}

#: Tables that hold nothing about a person (order lines are reached through anonymised orders;
#: ``event_message_ids`` holds the random ids SDKs give events, with nothing tying them to
#: anyone, and keeps erased ones: :func:`delete_events`).
NON_PERSONAL_TABLES: frozenset[str] = frozenset(
    {
        "products",
        "event_message_ids",
        "api_keys",
        "order_lines",
        "projections",
        "segments",
        "segment_sizes",
        "persona_models",
    }
)

#: Largest number of values put in one ``IN (...)`` list (SQLite's limit is 32766 variables).
CHUNK = 1000


@dataclass(frozen=True)
class Person:
    """Everything that identifies one person in the store.

    Attributes:
        customer_id: The live profile the identifier resolved to.
        customer_ids: That profile and every profile merged into it.
        values: Every identifier value of theirs, including the customer ids.
        emails: Their e-mail addresses, lower-cased.
    """

    customer_id: str
    customer_ids: tuple[str, ...]
    values: tuple[str, ...]
    emails: tuple[str, ...]


def collect_person(session: Session, root: Customer) -> Person:
    """Gather ``root``, every profile merged into it (at any depth) and all their identifiers."""
    ids: list[str] = [root.id]
    frontier = [root.id]
    while frontier:
        found = [
            cid
            for chunk in _chunks(frontier)
            for cid in session.scalars(
                select(Customer.id).where(Customer.merged_into_id.in_(chunk))
            )
            if cid not in ids
        ]
        ids.extend(found)
        frontier = found
    identities = [
        (kind, value)
        for chunk in _chunks(ids)
        for kind, value in session.execute(
            select(Identity.kind, Identity.value).where(Identity.customer_id.in_(chunk))
        )
    ]
    profile_emails = [
        email
        for chunk in _chunks(ids)
        for email in session.scalars(select(Customer.email).where(Customer.id.in_(chunk)))
        if email
    ]
    emails = {e.strip().lower() for e in profile_emails}
    emails |= {value.strip().lower() for kind, value in identities if kind == "email"}
    values = dict.fromkeys([*ids, *(value for _, value in identities), *profile_emails, *emails])
    return Person(
        customer_id=root.id,
        customer_ids=tuple(ids),
        values=tuple(v for v in values if v),
        emails=tuple(sorted(emails)),
    )


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _in(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """``column IN values``, split into chunks the database accepts."""
    if not values:
        return false()
    return or_(*(column.in_(chunk) for chunk in _chunks(values)))


def _mentions(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """True where the column, read as text (JSON included), contains any of ``values``."""
    text = sql_cast(column, Text)
    clauses = [text.contains(v, autoescape=True) for v in values if v]
    return or_(*clauses) if clauses else false()


def events_filter(person: Person) -> ColumnElement[bool]:
    """Events of the person: sent under any of their identifiers, or carrying their e-mail as a
    trait (an identify call for someone else that names them). The trait match reads every
    event's JSON, so erasure scans the whole log; it is rare enough for that to be acceptable."""
    clauses = [_in(Event.user_id, person.values), _in(Event.anonymous_id, person.values)]
    if person.emails:
        clauses.append(_in(func.lower(Event.traits["email"].as_string()), person.emails))
        clauses.append(
            _in(func.lower(Event.context[("traits", "email")].as_string()), person.emails)
        )
    return or_(*clauses)


def orders_filter(person: Person) -> ColumnElement[bool]:
    """Orders placed by any of the person's profiles, or as a guest with one of their e-mails."""
    return or_(
        _in(Order.customer_id, person.customer_ids), _in(func.lower(Order.email), person.emails)
    )


def merges_filter(person: Person) -> ColumnElement[bool]:
    """Merges the person took part in, and any whose undo snapshot mentions them."""
    return or_(
        _in(Merge.winner_id, person.customer_ids),
        _in(Merge.loser_id, person.customer_ids),
        _mentions(Merge.snapshot, person.values),
    )


# --- reads (export) ------------------------------------------------------------------------


def profiles(session: Session, person: Person) -> list[Customer]:
    return list(
        session.scalars(
            select(Customer).where(_in(Customer.id, person.customer_ids)).order_by(Customer.id)
        )
    )


def identities(session: Session, person: Person) -> list[Identity]:
    return list(
        session.scalars(
            select(Identity)
            .where(_in(Identity.customer_id, person.customer_ids))
            .order_by(Identity.id)
        )
    )


def consents(session: Session, person: Person) -> list[Consent]:
    return list(
        session.scalars(
            select(Consent)
            .where(_in(Consent.customer_id, person.customer_ids))
            .order_by(Consent.recorded_at, Consent.id)
        )
    )


def orders_with_lines(session: Session, person: Person) -> list[tuple[Order, list[OrderLine]]]:
    orders = list(
        session.scalars(select(Order).where(orders_filter(person)).order_by(Order.placed_at))
    )
    lines: dict[str, list[OrderLine]] = {order.id: [] for order in orders}
    order_ids = list(lines)
    for line in session.scalars(
        select(OrderLine)
        .where(_in(OrderLine.order_id, order_ids))
        .order_by(OrderLine.order_id, OrderLine.position)
    ):
        lines[line.order_id].append(line)
    return [(order, lines[order.id]) for order in orders]


def memberships(session: Session, person: Person) -> list[SegmentMembership]:
    return list(
        session.scalars(
            select(SegmentMembership)
            .where(_in(SegmentMembership.customer_id, person.customer_ids))
            .order_by(SegmentMembership.id)
        )
    )


def merges(session: Session, person: Person) -> list[Merge]:
    return list(session.scalars(select(Merge).where(merges_filter(person)).order_by(Merge.id)))


def events_page(
    session: Session, person: Person, after: tuple[datetime, int] | None, limit: int | None
) -> list[Event]:
    """The person's next ``limit`` (None: all) events in time order after the cursor.

    Keyset pages let an export stream millions of events in short transactions (on SQLite
    every transaction holds the write lock, so one long read would stall ingest)."""
    query = select(Event).where(events_filter(person))
    if after is not None:
        query = query.where(tuple_(Event.timestamp, Event.id) > tuple_(*after))
    query = query.order_by(Event.timestamp, Event.id)
    return list(session.scalars(query if limit is None else query.limit(limit)))


# --- writes (erasure) ----------------------------------------------------------------------


def _rowcount(result: Any) -> int:
    return max(cast(CursorResult[Any], result).rowcount, 0)


def delete_events(session: Session, person: Person) -> int:
    """Erase the person's events, keeping their messageIds (random ids that name no one) in
    the deduplication index first, so an SDK that retries after the erasure cannot bring them
    back (``events.dedup``)."""
    merge_message_ids(session)
    return _rowcount(
        session.execute(
            delete(Event).where(events_filter(person)),
            execution_options={"synchronize_session": False},
        )
    )


def delete_consents(session: Session, person: Person) -> int:
    return _rowcount(
        session.execute(
            delete(Consent).where(_in(Consent.customer_id, person.customer_ids)),
            execution_options={"synchronize_session": False},
        )
    )


def delete_identities(session: Session, person: Person) -> int:
    return _rowcount(
        session.execute(
            delete(Identity).where(_in(Identity.customer_id, person.customer_ids)),
            execution_options={"synchronize_session": False},
        )
    )


def delete_memberships(session: Session, person: Person) -> int:
    """Segment membership intervals: which segments the person was in, and when."""
    return _rowcount(
        session.execute(
            delete(SegmentMembership).where(
                _in(SegmentMembership.customer_id, person.customer_ids)
            ),
            execution_options={"synchronize_session": False},
        )
    )


def delete_merges(session: Session, person: Person) -> int:
    return _rowcount(
        session.execute(
            delete(Merge).where(merges_filter(person)),
            execution_options={"synchronize_session": False},
        )
    )


def anonymise_orders(session: Session, person: Person) -> int:
    """Detach orders from the person but keep them for the books: totals, lines, dates,
    status and channel stay; the customer link and the e-mail go."""
    return _rowcount(
        session.execute(
            update(Order).where(orders_filter(person)).values(customer_id=None, email=None),
            execution_options={"synchronize_session": False},
        )
    )


def delete_customers(session: Session, person: Person) -> int:
    ids = _in(Customer.id, person.customer_ids)
    # Unlink first so the self-referencing foreign key never sees a dangling row mid-statement.
    session.execute(
        update(Customer).where(ids).values(merged_into_id=None),
        execution_options={"synchronize_session": False},
    )
    return _rowcount(
        session.execute(
            delete(Customer).where(ids), execution_options={"synchronize_session": False}
        )
    )


def pseudonymise_audit(session: Session, person: Person, pseudonym: str) -> int:
    """Earlier audit entries that name the person keep their action and time but lose the name:
    the target becomes ``pseudonym`` and a detail mentioning them is replaced."""
    named = _in(AuditEntry.target, person.values)
    mentioned = _mentions(AuditEntry.detail, person.values)
    count = 0
    for entry in session.scalars(select(AuditEntry).where(or_(named, mentioned))):
        if entry.target in person.values:
            entry.target = pseudonym
        texts = (json.dumps(entry.detail), json.dumps(entry.detail, ensure_ascii=False))
        if any(value in text for value in person.values for text in texts):
            entry.detail = {"redacted": "personal data erased"}
        count += 1
    session.flush()
    return count


def row_dict(row: Any) -> dict[str, Any]:
    """An ORM row as a plain dict of its columns."""
    return {column.key: getattr(row, column.key) for column in row.__mapper__.column_attrs}
