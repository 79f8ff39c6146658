"""Factories for customer 360 tests: ORM rows straight into the store (no ingest involved)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from shopkeeper.models import (
    Consent,
    Customer,
    Event,
    Identity,
    Merge,
    Order,
    OrderLine,
    Product,
    new_id,
)

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
_seq = itertools.count(1)


def customer(
    session: Session,
    *,
    id: str | None = None,
    traits: dict[str, Any] | None = None,
    email: str | None = None,
    first_seen: datetime | None = None,
    last_seen: datetime | None = None,
    merged_into: str | None = None,
    identities: Sequence[tuple[str, str]] = (),
    at: datetime = T0,
) -> Customer:
    row = Customer(
        id=id or new_id("cus"),
        created_at=at,
        updated_at=at,
        first_seen_at=first_seen,
        last_seen_at=last_seen,
        email=email,
        traits=traits or {},
        merged_into_id=merged_into,
    )
    session.add(row)
    session.flush()
    for kind, value in identities:
        identity(session, row, kind, value, at=first_seen or at)
    return row


def identity(
    session: Session, owner: Customer, kind: str, value: str, *, at: datetime = T0
) -> Identity:
    row = Identity(customer_id=owner.id, kind=kind, value=value, created_at=at, source="test")
    session.add(row)
    session.flush()
    return row


def event(
    session: Session,
    kind: str,
    at: datetime,
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    type: str = "track",
    **columns: Any,
) -> Event:
    row = Event(
        message_id=f"msg-{next(_seq)}",
        type=type,
        event=kind,
        kind=kind,
        user_id=user_id,
        anonymous_id=anonymous_id,
        timestamp=at,
        received_at=at,
        properties=columns.pop("properties", {}),
        traits={},
        context={},
        **columns,
    )
    session.add(row)
    return row


def product(
    session: Session,
    sku: str,
    *,
    title: str | None = None,
    category_path: str | None = None,
    brand: str | None = None,
    price_tier: str | None = None,
    price: Decimal | None = None,
) -> Product:
    row = Product(
        sku=sku,
        title=title or f"Product {sku}",
        category_path=category_path,
        brand=brand,
        price_tier=price_tier,
        price=price,
        attributes={},
        created_at=T0,
        updated_at=T0,
    )
    session.add(row)
    return row


def order(
    session: Session,
    owner: Customer | None,
    placed_at: datetime,
    *,
    id: str | None = None,
    total: Decimal | str = "0",
    status: str = "completed",
    channel: str = "web",
    refunded: Decimal | str | None = None,
    lines: Sequence[tuple[str, int, Decimal | str]] = (),
) -> Order:
    row = Order(
        id=id or f"ord-{next(_seq)}",
        customer_id=owner.id if owner else None,
        channel=channel,
        status=status,
        total=Decimal(total),
        refunded=Decimal(refunded) if refunded is not None else None,
        placed_at=placed_at,
        updated_at=placed_at,
    )
    session.add(row)
    session.flush()
    for position, (sku, quantity, unit_price) in enumerate(lines):
        session.add(
            OrderLine(
                order_id=row.id,
                position=position,
                sku=sku,
                quantity=quantity,
                unit_price=Decimal(unit_price),
            )
        )
    return row


def merge(
    session: Session,
    winner: Customer,
    loser: Customer,
    *,
    at: datetime = T0,
    undone_at: datetime | None = None,
) -> Merge:
    row = Merge(
        winner_id=winner.id,
        loser_id=loser.id,
        reason="test",
        created_at=at,
        undone_at=undone_at,
        snapshot={},
    )
    session.add(row)
    if undone_at is None:
        loser.merged_into_id = winner.id
    session.flush()
    return row


def consent(
    session: Session,
    owner: Customer,
    purpose: str,
    granted: bool,
    *,
    source: str = "test",
    at: datetime = T0,
) -> Consent:
    row = Consent(
        customer_id=owner.id, purpose=purpose, granted=granted, source=source, recorded_at=at
    )
    session.add(row)
    return row
