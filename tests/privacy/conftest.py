"""A small store with two people, Alice (two merged profiles) and Bob, built row by row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.models import (
    AuditEntry,
    Consent,
    Customer,
    Event,
    Identity,
    Merge,
    Order,
    OrderLine,
)

BOB_ID = "cus_bob000000000003"


@dataclass(frozen=True)
class Alice:
    """Alice's identifiers (``people`` fixture); ``bob_id`` is the bystander's profile."""

    customer_id: str = "cus_alice0000000001"
    old_id: str = "cus_aliceold000002"
    user_id: str = "u-alice-42"
    anonymous_ids: tuple[str, ...] = ("anon-alice-1", "anon-alice-2")
    email: str = "alice.liddell@example.com"
    bob_id: str = BOB_ID

    @property
    def values(self) -> tuple[str, ...]:
        return (self.customer_id, self.old_id, self.user_id, *self.anonymous_ids, self.email)


ALICE = Alice()


def _customer(cid: str, at: datetime, email: str | None, **extra: Any) -> Customer:
    return Customer(
        id=cid,
        created_at=at,
        updated_at=at,
        first_seen_at=at,
        last_seen_at=at,
        email=email,
        traits={"email": email} if email else {},
        **extra,
    )


def _event(
    n: int,
    at: datetime,
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    traits: dict[str, Any] | None = None,
    event: str = "Product Viewed",
    context: dict[str, Any] | None = None,
) -> Event:
    return Event(
        message_id=f"msg-{n}",
        type="identify" if traits else "track",
        event=event,
        kind="product_viewed",
        user_id=user_id,
        anonymous_id=anonymous_id,
        timestamp=at,
        received_at=at,
        sku="SKU-1",
        properties={"sku": "SKU-1"},
        traits=traits or {},
        context=context or {"ip": "10.0.0.1"},
    )


def _order(oid: str, at: datetime, total: str, customer_id: str | None, email: str | None) -> Order:
    return Order(
        id=oid,
        customer_id=customer_id,
        email=email,
        total=Decimal(total),
        currency="EUR",
        placed_at=at,
        updated_at=at,
        channel="web",
        status="completed",
    )


def seed(shop: Shopkeeper) -> None:
    """Alice: a live profile plus an older one merged into it, identities, consents, events
    (one only reachable through her e-mail trait), an own and a guest order, a merge and an
    audit entry naming her. Bob: a bystander whose data must survive her erasure."""
    t0: datetime = shop.clock.now() - timedelta(days=10)
    a = ALICE
    with shop.db.transaction() as s:
        s.add(_customer(a.customer_id, t0, a.email))
        s.add(_customer(BOB_ID, t0, "bob@example.com"))
        s.flush()
        s.add(_customer(a.old_id, t0, None, merged_into_id=a.customer_id))
        s.flush()
        s.add_all(
            [
                Identity(customer_id=a.customer_id, kind="user_id", value=a.user_id, created_at=t0),
                Identity(
                    customer_id=a.customer_id,
                    kind="anonymous_id",
                    value=a.anonymous_ids[0],
                    created_at=t0,
                ),
                Identity(customer_id=a.customer_id, kind="email", value=a.email, created_at=t0),
                Identity(
                    customer_id=a.old_id,
                    kind="anonymous_id",
                    value=a.anonymous_ids[1],
                    created_at=t0,
                ),
                Identity(customer_id=BOB_ID, kind="user_id", value="u-bob", created_at=t0),
                Identity(customer_id=BOB_ID, kind="email", value="bob@example.com", created_at=t0),
                Consent(
                    customer_id=a.customer_id,
                    purpose="email",
                    granted=True,
                    source="api",
                    recorded_at=t0,
                ),
                Consent(
                    customer_id=a.customer_id,
                    purpose="email",
                    granted=False,
                    source="api",
                    recorded_at=t0 + timedelta(days=1),
                ),
                Consent(
                    customer_id=BOB_ID, purpose="email", granted=True, source="api", recorded_at=t0
                ),
                _event(1, t0 + timedelta(hours=3), user_id=a.user_id),
                _event(2, t0 + timedelta(hours=1), anonymous_id=a.anonymous_ids[0]),
                _event(3, t0 + timedelta(hours=2), anonymous_id=a.anonymous_ids[1]),
                _event(
                    4, t0 + timedelta(hours=4), user_id=a.user_id, anonymous_id=a.anonymous_ids[0]
                ),
                _event(
                    5,
                    t0 + timedelta(hours=5),
                    anonymous_id="anon-stranger",
                    traits={"email": a.email.upper()},
                    event="Identify",
                ),
                _event(
                    8,
                    t0 + timedelta(hours=6),
                    anonymous_id="anon-stranger-2",
                    context={"traits": {"email": a.email}},
                ),
                _event(6, t0, user_id="u-bob"),
                _event(7, t0, anonymous_id="anon-bob", traits={"email": "bob@example.com"}),
                _order("ord-a1", t0, "100.50", a.customer_id, a.email),
                _order("ord-a2", t0 + timedelta(days=1), "20.00", None, a.email),
                _order("ord-b1", t0, "33.30", BOB_ID, "bob@example.com"),
                Merge(
                    winner_id=a.customer_id,
                    loser_id=a.old_id,
                    reason="identify",
                    created_at=t0,
                    snapshot={"identities": [["anonymous_id", a.anonymous_ids[1]]]},
                ),
                AuditEntry(
                    at=t0,
                    actor="cli",
                    action="merge.undo",
                    target=a.customer_id,
                    detail={"loser": a.old_id},
                ),
                AuditEntry(
                    at=t0,
                    actor="cli",
                    action="key.create",
                    target="key_x",
                    detail={"scope": "read"},
                ),
            ]
        )
        s.flush()
        s.add_all(
            [
                OrderLine(
                    order_id="ord-a1",
                    position=0,
                    sku="SKU-1",
                    name="Tea",
                    quantity=2,
                    unit_price=Decimal("50.25"),
                ),
                OrderLine(
                    order_id="ord-a2",
                    position=0,
                    sku="SKU-2",
                    name="Cup",
                    quantity=1,
                    unit_price=Decimal("20.00"),
                ),
                OrderLine(
                    order_id="ord-b1",
                    position=0,
                    sku="SKU-1",
                    name="Tea",
                    quantity=1,
                    unit_price=Decimal("33.30"),
                ),
            ]
        )


@pytest.fixture
def people(shop: Shopkeeper) -> Alice:
    seed(shop)
    return ALICE
