"""The few queries an import makes itself; everything else goes through the domain services."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopkeeper.models import Customer, Identity, Order, Product

#: Bound parameters per ``IN (...)``: well under SQLite's and PostgreSQL's limits.
CHUNK = 5_000


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def customer_ids(session: Session, kind: str, values: Collection[str]) -> dict[str, str]:
    """Identifier value → customer id, for identities of ``kind`` (one query per 5,000)."""
    found: dict[str, str] = {}
    ordered = sorted(values)
    for chunk in _chunks(ordered):
        rows = session.execute(
            select(Identity.value, Identity.customer_id).where(
                Identity.kind == kind, Identity.value.in_(chunk)
            )
        )
        found.update({value: customer_id for value, customer_id in rows})
    return found


def existing_order_ids(session: Session, ids: Collection[str]) -> set[str]:
    """Which of ``ids`` are stored already (to tell new rows from re-imported ones)."""
    found: set[str] = set()
    for chunk in _chunks(sorted(ids)):
        found.update(session.scalars(select(Order.id).where(Order.id.in_(chunk))))
    return found


def table_counts(session: Session) -> tuple[int, int]:
    """``(customers, products)`` stored now, to report what an import created."""
    customers = session.scalar(select(func.count()).select_from(Customer)) or 0
    products = session.scalar(select(func.count()).select_from(Product)) or 0
    return customers, products
