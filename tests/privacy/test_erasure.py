"""Erasure leaves no trace of the person in any table, and nothing else is lost."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Text, cast, func, or_, select

from shopkeeper.application import Shopkeeper
from shopkeeper.errors import NotFound
from shopkeeper.models import AuditEntry, Base, Customer, Event, Order, OrderLine
from shopkeeper.privacy import repository


def rows_mentioning(shop: Shopkeeper, values: tuple[str, ...]) -> dict[str, int]:
    """Rows per table where any column, read as text, contains any of ``values``."""
    found: dict[str, int] = {}
    with shop.db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            condition = or_(
                *(
                    cast(column, Text).contains(value, autoescape=True)
                    for column in table.columns
                    for value in values
                )
            )
            count = session.scalar(select(func.count()).select_from(table).where(condition))
            if count:
                found[table.name] = int(count)
    return found


def total_of_orders(shop: Shopkeeper) -> Decimal:
    with shop.db.sessions() as session:
        return Decimal(session.scalar(select(func.sum(Order.total))) or 0)


def erase(shop: Shopkeeper, identifier: str) -> dict[str, int]:
    with shop.db.transaction() as session:
        return shop.privacy.erase(session, identifier, actor="cli").counts


def test_every_table_is_declared_personal_or_not() -> None:
    declared = set(repository.PERSONAL_TABLES) | repository.NON_PERSONAL_TABLES
    undeclared = sorted(set(Base.metadata.tables) - declared)
    assert not undeclared, (
        f"tables {undeclared} are not declared in shopkeeper.privacy.repository: decide whether "
        "erasure must touch them (PERSONAL_TABLES, and erase them) or not (NON_PERSONAL_TABLES)"
    )


def test_erasure_leaves_no_trace_in_any_table(shop: Shopkeeper, people: Any) -> None:
    before = total_of_orders(shop)
    assert rows_mentioning(shop, people.values)  # the scan does see her before

    counts = erase(shop, people.customer_id)

    assert rows_mentioning(shop, people.values) == {}
    assert total_of_orders(shop) == before
    assert counts == {
        "events": 6,
        "consents": 2,
        "merges": 1,
        "orders": 2,
        "segment_memberships": 0,
        "identities": 4,
        "customers": 2,
        "audit_log": 1,
    }


def test_orders_stay_for_the_books(shop: Shopkeeper, people: Any) -> None:
    erase(shop, people.email)
    with shop.db.sessions() as session:
        order = session.get(Order, "ord-a1")
        assert order is not None
        assert (order.customer_id, order.email) == (None, None)
        assert (order.total, order.status, order.channel, order.source) == (
            Decimal("100.5"),
            "completed",
            "web",
            "event",
        )
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == "ord-a1")).all()
        assert [(line.sku, line.quantity) for line in lines] == [("SKU-1", 2)]


def test_bystander_keeps_everything(shop: Shopkeeper, people: Any) -> None:
    erase(shop, people.user_id)
    with shop.db.sessions() as session:
        bob = session.get(Customer, people.bob_id)
        assert bob is not None
        assert bob.email == "bob@example.com"
        assert session.scalar(select(func.count()).select_from(Event)) == 2
        assert session.get(Order, "ord-b1").customer_id == people.bob_id  # type: ignore[union-attr]
    assert rows_mentioning(shop, ("u-bob", "bob@example.com"))["identities"] == 2


def test_a_merged_away_id_erases_the_whole_person(shop: Shopkeeper, people: Any) -> None:
    erase(shop, people.old_id)
    assert rows_mentioning(shop, people.values) == {}


def test_audit_names_a_pseudonym_not_the_person(shop: Shopkeeper, people: Any) -> None:
    erase(shop, people.anonymous_ids[1])
    with shop.db.sessions() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    erased = [e for e in entries if e.action == "customer.erase"]
    pseudonym = "sha256:" + hashlib.sha256(people.customer_id.encode()).hexdigest()
    assert [(e.actor, e.target) for e in erased] == [("cli", pseudonym)]
    assert erased[0].detail["customers"] == 2
    earlier = next(e for e in entries if e.action == "merge.undo")
    assert earlier.target == pseudonym
    assert earlier.detail == {"redacted": "personal data erased"}
    untouched = next(e for e in entries if e.action == "key.create")
    assert untouched.target == "key_x"


def test_erasure_is_one_transaction(
    shop: Shopkeeper, people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(repository, "delete_customers", fail)
    with pytest.raises(RuntimeError):
        erase(shop, people.customer_id)
    with shop.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 8
        assert session.scalar(select(func.count()).select_from(Customer)) == 3


def test_unknown_person_is_not_found(shop: Shopkeeper, people: Any) -> None:
    with pytest.raises(NotFound):
        erase(shop, "nobody@example.com")
