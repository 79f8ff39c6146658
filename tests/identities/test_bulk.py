"""observe is bulk: thousands of observations cost a bounded number of SQL statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.identities.service import IdentityGraph, Observation
from shopkeeper.models import Consent, Customer, Identity

from .conftest import obs


@contextmanager
def counting(shop: Shopkeeper) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(shop.db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(shop.db.engine, "before_cursor_execute", count)


def batch(offset: float) -> list[Observation]:
    """5,000 observations: 1,000 visitors browse, identify with a userId, e-mail and consent."""
    out: list[Observation] = []
    for i in range(1000):
        minutes = offset + i / 100
        out += [
            obs(anonymous_id=f"anon-{i}", minutes=minutes),
            obs(anonymous_id=f"anon-{i}", minutes=minutes + 1),
            obs(
                "identify",
                user_id=f"user-{i}",
                anonymous_id=f"anon-{i}",
                minutes=minutes + 2,
                email=f"p{i}@example.com",
                traits={"n": i},
                consent={"email": True},
            ),
            obs(user_id=f"user-{i}", minutes=minutes + 3),
            obs(anonymous_id=f"anon-{i}-phone", minutes=minutes + 4),
        ]
    return out


def test_five_thousand_observations_use_few_statements(
    shop: Shopkeeper, graph: IdentityGraph
) -> None:
    first = batch(0)
    with counting(shop) as statements, shop.db.transaction() as session:
        graph.observe(session, first)
    assert len(first) == 5000
    assert len(statements) < 50, statements
    with shop.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 2000
        assert s.scalar(select(func.count()).select_from(Identity)) == 4000
        assert s.scalar(select(func.count()).select_from(Consent)) == 1000

    # Again over the same, now stored, profiles: loads, updates, no new rows.
    with counting(shop) as statements, shop.db.transaction() as session:
        graph.observe(session, batch(100))
    assert len(statements) < 50, statements
    with shop.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 2000
        assert s.scalar(select(func.count()).select_from(Consent)) == 1000
        customer = s.scalar(
            select(Customer)
            .join(Identity, Identity.customer_id == Customer.id)
            .where(Identity.value == "user-7")
        )
        assert customer is not None
        assert customer.email == "p7@example.com"


def test_a_fresh_customer_carries_every_customers_column() -> None:
    """New profiles are plain values until stored; their row must be a whole ``customers`` row."""
    from shopkeeper.identities.batch import Fresh

    assert Fresh.__slots__ == tuple(c.name for c in Customer.__table__.columns)
