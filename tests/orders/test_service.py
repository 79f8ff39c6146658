"""OrderService on SQLite and PostgreSQL: idempotent record, replace, status changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.errors import Invalid
from shopkeeper.models import Customer, Order, OrderLine
from shopkeeper.orders.repository import (
    COPY_LINES,
    INSERT_LINES_QMARK,
    LINE_COLUMNS,
    lines_of,
    orders_of,
)
from shopkeeper.orders.schemas import OrderIn, OrderLineIn
from shopkeeper.orders.service import RecordResult, refund_outcome

PLACED = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def customer(shop: Shopkeeper, clock: FixedClock) -> str:
    with shop.db.transaction() as session:
        session.add(Customer(id="cus_1", created_at=clock.now(), updated_at=clock.now()))
    return "cus_1"


def order(order_id: str = "O-1", **overrides: object) -> OrderIn:
    fields: dict[str, object] = {
        "id": order_id,
        "total": Decimal("30.00"),
        "currency": "gbp",
        "placed_at": PLACED,
        "lines": [
            OrderLineIn(sku="85123A", name="HEART HOLDER", quantity=2, unit_price=Decimal("2.55")),
            OrderLineIn(sku="71053", name="LANTERN", quantity=1, unit_price=Decimal("3.39")),
            OrderLineIn(sku="POST", name="POSTAGE", quantity=1, unit_price=Decimal("18")),
        ],
    }
    fields.update(overrides)
    return OrderIn.model_validate(fields)


def record(shop: Shopkeeper, orders: list[OrderIn]) -> RecordResult:
    with shop.db.transaction() as session:
        return shop.orders.record(session, orders)


def counts(shop: Shopkeeper) -> tuple[int, int]:
    with shop.db.transaction() as session:
        n_orders = session.scalar(select(func.count()).select_from(Order)) or 0
        n_lines = session.scalar(select(func.count()).select_from(OrderLine)) or 0
        return n_orders, n_lines


def lines(shop: Shopkeeper, order_id: str) -> list[tuple[int, str, int, Decimal, bool]]:
    with shop.db.transaction() as session:
        return [
            (line.position, line.sku, line.quantity, line.unit_price, line.is_product)
            for line in lines_of(session, order_id)
        ]


def stored(shop: Shopkeeper, order_id: str) -> Order:
    with shop.db.transaction() as session:
        found = session.get(Order, order_id)
        assert found is not None
        return found


def test_record_creates_with_lines_in_position_order(shop: Shopkeeper, customer: str) -> None:
    assert record(shop, [order(customer_id=customer)]) == RecordResult(created=1)
    assert lines(shop, "O-1") == [
        (0, "85123A", 2, Decimal("2.55"), True),
        (1, "71053", 1, Decimal("3.39"), True),
        (2, "POST", 1, Decimal("18"), False),
    ]
    header = stored(shop, "O-1")
    assert (header.currency, header.total, header.status) == ("GBP", Decimal("30"), "completed")
    assert header.placed_at == PLACED


def test_record_same_order_twice_changes_nothing(
    shop: Shopkeeper, customer: str, clock: FixedClock
) -> None:
    batch = [order(customer_id=customer), order("O-2", lines=[]), order("O-3", total="1.23456")]
    assert record(shop, batch) == RecordResult(created=3)
    before = stored(shop, "O-1").updated_at
    clock.advance(hours=1)
    # The same content, written differently: another time zone, a naive UTC time.
    same = [
        order(customer_id=customer, placed_at=PLACED.astimezone(timezone(timedelta(hours=2)))),
        order("O-2", lines=[], placed_at=PLACED.replace(tzinfo=None)),
        order("O-3", total="1.23456"),
    ]
    assert record(shop, same) == RecordResult(unchanged=3)
    assert counts(shop) == (3, 6)
    assert stored(shop, "O-1").updated_at == before


def test_record_replaces_header_and_lines(
    shop: Shopkeeper, customer: str, clock: FixedClock
) -> None:
    record(shop, [order(customer_id=customer), order("O-2")])
    clock.advance(minutes=1)
    changed = order(
        customer_id=customer,
        total=Decimal("5.10"),
        lines=[OrderLineIn(sku="71053", quantity=1, unit_price=Decimal("5.10"))],
    )
    header_only = order("O-2", status="cancelled")
    assert record(shop, [changed, header_only]) == RecordResult(updated=2)
    assert lines(shop, "O-1") == [(0, "71053", 1, Decimal("5.10"), True)]
    assert stored(shop, "O-1").total == Decimal("5.10")
    assert stored(shop, "O-1").updated_at == clock.now()
    assert stored(shop, "O-2").status == "cancelled"
    assert len(lines(shop, "O-2")) == 3
    assert counts(shop) == (2, 4)


def test_duplicate_ids_in_batch_last_wins(shop: Shopkeeper) -> None:
    batch = [order(total=Decimal(1)), order(total=Decimal(2), lines=[])]
    assert record(shop, batch) == RecordResult(created=1)
    assert stored(shop, "O-1").total == Decimal(2)
    assert counts(shop) == (1, 0)


def test_unknown_customer_is_invalid(shop: Shopkeeper) -> None:
    with pytest.raises(Invalid) as caught:
        record(shop, [order(customer_id="cus_nobody"), order("O-2")])
    assert caught.value.detail["field"] == "customer_id"
    assert counts(shop) == (0, 0)


def test_orders_of_customer_newest_first(shop: Shopkeeper, customer: str) -> None:
    record(
        shop,
        [
            order("old", customer_id=customer, placed_at=PLACED - timedelta(days=3)),
            order("new", customer_id=customer),
            order("anon"),
        ],
    )
    with shop.db.transaction() as session:
        assert [o.id for o in orders_of(session, customer)] == ["new", "old"]


def test_set_status(shop: Shopkeeper, clock: FixedClock) -> None:
    record(shop, [order("full"), order("part"), order("cancel")])
    later = clock.now() + timedelta(days=1)
    with shop.db.transaction() as session:
        assert shop.orders.set_status(session, "full", "refunded", at=later)
        assert shop.orders.set_status(session, "part", "refunded", refunded=Decimal(10), at=later)
        assert shop.orders.set_status(session, "cancel", "cancelled", at=later)
        assert not shop.orders.set_status(session, "unknown", "cancelled", at=later)
    full, part, cancel = stored(shop, "full"), stored(shop, "part"), stored(shop, "cancel")
    assert (full.status, full.refunded) == ("refunded", Decimal(30))
    assert (part.status, part.refunded) == ("partially_refunded", Decimal(10))
    assert (cancel.status, cancel.refunded) == ("cancelled", None)
    assert part.updated_at == later

    # A second partial refund adds up; reaching the total makes it a full refund.
    with shop.db.transaction() as session:
        shop.orders.set_status(session, "part", "refunded", refunded=Decimal(5), at=later)
    assert (stored(shop, "part").status, stored(shop, "part").refunded) == (
        "partially_refunded",
        Decimal(15),
    )
    with shop.db.transaction() as session:
        shop.orders.set_status(session, "part", "refunded", refunded=Decimal(20), at=later)
    assert (stored(shop, "part").status, stored(shop, "part").refunded) == (
        "refunded",
        Decimal(30),
    )


def test_set_status_rejects_bad_input(shop: Shopkeeper, clock: FixedClock) -> None:
    record(shop, [order()])
    with shop.db.transaction() as session, pytest.raises(Invalid):
        shop.orders.set_status(session, "O-1", "lost", at=clock.now())
    with shop.db.transaction() as session, pytest.raises(Invalid):
        shop.orders.set_status(session, "O-1", "refunded", refunded=Decimal(-1), at=clock.now())


def test_refund_outcome_known_answers() -> None:
    assert refund_outcome(Decimal(50), None, None) == ("refunded", Decimal(50))
    assert refund_outcome(Decimal(50), None, Decimal(10)) == ("partially_refunded", Decimal(10))
    assert refund_outcome(Decimal(50), Decimal(45), Decimal(10)) == ("refunded", Decimal(50))
    assert refund_outcome(Decimal(0), None, Decimal(7)) == ("refunded", Decimal(7))


def test_large_batch(shop: Shopkeeper) -> None:
    batch = [
        order(
            f"O{i:05d}",
            lines=[OrderLineIn(sku=f"S{j}", unit_price=Decimal(j)) for j in range(i % 7)],
        )
        for i in range(3_000)
    ]
    assert record(shop, batch) == RecordResult(created=3_000)
    assert record(shop, batch) == RecordResult(unchanged=3_000)
    assert counts(shop) == (3_000, sum(i % 7 for i in range(3_000)))


def test_driver_statements_name_the_line_columns() -> None:
    columns = "(" + ", ".join(("order_id", *LINE_COLUMNS)) + ")"
    assert columns in COPY_LINES
    assert columns in INSERT_LINES_QMARK
