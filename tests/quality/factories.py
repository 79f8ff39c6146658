"""Rows for scorecard tests, written straight into the store (ORM), so each planted problem
is exactly one row and nothing is cleaned up on the way in."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shopkeeper.models import Consent, Customer, Event, Identity, Order, OrderLine, Product

#: The ``clock`` fixture's time.
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
_seq = itertools.count(1)

#: ``(sku, quantity, unit price)`` or ``(sku, quantity, unit price, name, is_product)``.
Line = tuple[Any, ...]


def customer(
    session: Session,
    id: str,
    email: str | None = None,
    *,
    first_seen: datetime | None = None,
    last_seen: datetime | None = None,
    merged_into: str | None = None,
) -> Customer:
    row = Customer(
        id=id,
        created_at=NOW,
        updated_at=NOW,
        first_seen_at=first_seen or NOW - timedelta(days=30),
        last_seen_at=last_seen or NOW - timedelta(days=1),
        email=email,
        traits={},
        merged_into_id=merged_into,
    )
    session.add(row)
    session.flush()
    return row


def identity(
    session: Session, customer_id: str, kind: str, value: str, *, at: datetime = NOW
) -> Identity:
    row = Identity(customer_id=customer_id, kind=kind, value=value, created_at=at, source="test")
    session.add(row)
    session.flush()
    return row


def consent(
    session: Session, customer_id: str, purpose: str, *, granted: bool = True, at: datetime = NOW
) -> Consent:
    row = Consent(
        customer_id=customer_id, purpose=purpose, granted=granted, source="test", recorded_at=at
    )
    session.add(row)
    session.flush()
    return row


def product(
    session: Session,
    sku: str,
    *,
    title: str | None = "A product",
    category: str | None = "home/decor",
    brand: str | None = "Acme",
    price: Decimal | str | None = "10",
    currency: str | None = "GBP",
    is_product: bool = True,
) -> Product:
    row = Product(
        sku=sku,
        title=title,
        category_path=category,
        brand=brand,
        price=None if price is None else Decimal(price),
        currency=currency,
        is_product=is_product,
        attributes={},
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def order(
    session: Session,
    id: str,
    customer_id: str | None,
    placed_at: datetime,
    total: Decimal | str,
    lines: Sequence[Line] = (),
    *,
    status: str = "completed",
    currency: str | None = "GBP",
) -> Order:
    row = Order(
        id=id,
        customer_id=customer_id,
        status=status,
        currency=currency,
        total=Decimal(total),
        placed_at=placed_at,
        updated_at=placed_at,
    )
    session.add(row)
    session.flush()
    for position, line in enumerate(lines):
        sku, quantity, price = line[:3]
        name = line[3] if len(line) > 3 else f"name of {sku}"
        is_product = line[4] if len(line) > 4 else True
        session.add(
            OrderLine(
                order_id=id,
                position=position,
                sku=sku,
                name=name,
                quantity=quantity,
                unit_price=Decimal(price),
                is_product=is_product,
            )
        )
    session.flush()
    return row


def event(
    session: Session,
    kind: str,
    at: datetime,
    *,
    anonymous_id: str | None = "v1",
    user_id: str | None = None,
    received_at: datetime | None = None,
    device_type: str | None = "desktop",
    source: str | None = "google",
    medium: str | None = "cpc",
    **columns: Any,
) -> Event:
    row = Event(
        message_id=f"msg-{next(_seq)}",
        type="track",
        event=kind,
        kind=kind,
        user_id=user_id,
        anonymous_id=anonymous_id,
        timestamp=at,
        received_at=received_at or at + timedelta(seconds=1),
        device_type=device_type,
        source=source,
        medium=medium,
        properties={},
        traits={},
        context={},
        **columns,
    )
    session.add(row)
    session.flush()
    return row


def daily_events(
    session: Session, source: str, per_day: dict[datetime, int], *, kind: str = "page_viewed"
) -> None:
    """``n`` clean events of ``source`` on each day (at noon), in one executemany."""
    rows = [
        {
            "message_id": f"msg-{next(_seq)}",
            "type": "page",
            "kind": kind,
            "anonymous_id": f"v-{source}-{i}",
            "timestamp": day + timedelta(minutes=i % 600),
            "received_at": day + timedelta(minutes=i % 600, seconds=1),
            "device_type": "mobile",
            "source": source,
            "medium": "organic",
            "properties": {},
            "traits": {},
            "context": {},
        }
        for day, n in per_day.items()
        for i in range(n)
    ]
    if rows:
        session.execute(insert(Event), rows)
