"""Every query of the identity graph. Lookups take whole batches (chunked ``IN`` lists), because
ingest calls the graph for thousands of events at once."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, or_, select, update
from sqlalchemy.orm import Session

from shopkeeper.db import ReadStatement, read_rows
from shopkeeper.identities.rules import Key
from shopkeeper.models import Consent, Customer, Identity, Merge, Order

#: Bound parameters per ``IN`` list: well under SQLite's 32,766 and PostgreSQL's 65,535.
CHUNK = 10_000

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def identities_by_keys(session: Session, keys: Collection[Key]) -> list[Row[Any]]:
    """(kind, value, customer_id) of the stored identities among ``keys``.

    Plain rows, not ORM objects: ingest loads thousands per batch and only reads them.
    """
    wanted = set(keys)
    kinds = sorted({kind for kind, _ in wanted})
    values = sorted({value for _, value in wanted})
    found: list[Row[Any]] = []
    for part in chunks(values):
        rows = read_rows(session, _BY_KEYS, {"kinds": kinds, "values": list(part)})
        found.extend(row for row in rows if (row.kind, row.value) in wanted)
    return found


# Batch reads built once, with expanding parameters (not rebuilt and hashed per chunk), run
# through ``read_rows`` (plain rows, no ORM layer).
_BY_KEYS = ReadStatement(
    select(Identity.kind, Identity.value, Identity.customer_id).where(
        Identity.kind.in_(bindparam("kinds", expanding=True)),
        Identity.value.in_(bindparam("values", expanding=True)),
    ),
    lists=("kinds", "values"),
)


_LIVE_BY_EMAIL = ReadStatement(
    select(Customer.email, Customer.id)
    .where(
        Customer.email.in_(bindparam("emails", expanding=True)), Customer.merged_into_id.is_(None)
    )
    .order_by(Customer.created_at, Customer.id),
    lists=("emails",),
)


def live_customer_ids_by_email(session: Session, emails: Collection[str]) -> dict[str, str]:
    """``email -> customer id`` for live profiles whose e-mail column holds one of ``emails``
    (profiles imported with an e-mail but no e-mail identity count as holding it too)."""
    owners: dict[str, str] = {}
    for part in chunks(sorted(set(emails))):
        rows = read_rows(session, _LIVE_BY_EMAIL, {"emails": list(part)})
        for email, customer_id in rows:
            if email is not None:
                owners.setdefault(email, customer_id)
    return owners


def customers_by_ids(session: Session, ids: Collection[str]) -> list[Customer]:
    found: list[Customer] = []
    for part in chunks(sorted(set(ids))):
        found.extend(session.scalars(select(Customer).where(Customer.id.in_(part))))
    return found


def identities_of_customers(session: Session, ids: Collection[str]) -> list[Row[Any]]:
    """(kind, value, customer_id) of every identity of the profiles, as plain rows."""
    found: list[Row[Any]] = []
    for part in chunks(sorted(set(ids))):
        found.extend(read_rows(session, _OF_CUSTOMERS, {"ids": list(part)}))
    return found


_OF_CUSTOMERS = ReadStatement(
    select(Identity.kind, Identity.value, Identity.customer_id)
    .where(Identity.customer_id.in_(bindparam("ids", expanding=True)))
    .order_by(Identity.id),
    lists=("ids",),
)


def consents_of_customers(session: Session, ids: Collection[str]) -> list[Row[Any]]:
    """(id, customer_id, purpose, granted) of the profiles' consent history, oldest first
    (the last row per purpose is in force)."""
    found: list[Row[Any]] = []
    for part in chunks(sorted(set(ids))):
        found.extend(read_rows(session, _CONSENTS_OF, {"ids": list(part)}))
    found.sort(key=lambda row: row.id)
    return found


_CONSENTS_OF = ReadStatement(
    select(Consent.id, Consent.customer_id, Consent.purpose, Consent.granted)
    .where(Consent.customer_id.in_(bindparam("ids", expanding=True)))
    .order_by(Consent.id),
    lists=("ids",),
)


def identity_ids_of(session: Session, customer_id: str) -> list[int]:
    return list(
        session.scalars(
            select(Identity.id).where(Identity.customer_id == customer_id).order_by(Identity.id)
        )
    )


def order_ids_of(session: Session, customer_id: str) -> list[str]:
    return list(
        session.scalars(select(Order.id).where(Order.customer_id == customer_id).order_by(Order.id))
    )


def consent_ids_of(session: Session, customer_id: str) -> list[int]:
    return list(
        session.scalars(
            select(Consent.id).where(Consent.customer_id == customer_id).order_by(Consent.id)
        )
    )


def move_rows(
    session: Session,
    model: type[Identity] | type[Order] | type[Consent],
    ids: Sequence[Any],
    *,
    from_customer: str,
    to_customer: str,
) -> None:
    """Re-point rows ``ids`` from one customer to another; rows that left ``from_customer``
    meanwhile (or were erased) are left alone. Objects already in the session are updated too."""
    for part in chunks(list(ids)):
        session.execute(
            update(model)
            .where(model.id.in_(part), model.customer_id == from_customer)
            .values(customer_id=to_customer)
            .execution_options(synchronize_session="fetch")
        )


def merges_involving(session: Session, customer_id: str | None, limit: int) -> list[Merge]:
    """The latest ``limit`` merges, newest first; with ``customer_id`` only those it won or lost."""
    query = select(Merge).order_by(Merge.id.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(or_(Merge.winner_id == customer_id, Merge.loser_id == customer_id))
    return list(session.scalars(query))


def later_active_merges(session: Session, merge: Merge) -> list[Merge]:
    """Still-active merges after ``merge`` that involve its winner (they depend on its state)."""
    return list(
        session.scalars(
            select(Merge)
            .where(
                Merge.id > merge.id,
                Merge.undone_at.is_(None),
                or_(Merge.winner_id == merge.winner_id, Merge.loser_id == merge.winner_id),
            )
            .order_by(Merge.id)
        )
    )
