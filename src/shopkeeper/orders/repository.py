"""Queries on orders and their lines.

Writes are Core executemany statements: an import records tens of thousands of orders with
hundreds of thousands of lines, and one ORM object per line would dominate the run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from shopkeeper.catalog.repository import chunks
from shopkeeper.models import Order, OrderLine

ORDERS = cast(Table, Order.__table__)
ORDER_LINES = cast(Table, OrderLine.__table__)

#: Header columns an order's content consists of (``id`` is the key, ``updated_at`` is
#: bookkeeping and not compared).
HEADER_COLUMNS = (
    "customer_id",
    "channel",
    "status",
    "currency",
    "total",
    "revenue",
    "shipping",
    "tax",
    "discount",
    "refunded",
    "coupon",
    "email",
    "source",
    "placed_at",
)

#: Line columns an order's content consists of, in the order they are compared.
LINE_COLUMNS = ("position", "sku", "name", "quantity", "unit_price", "is_product")

#: The driver-level statements of :func:`insert_lines` (columns: ``order_id``, then
#: :data:`LINE_COLUMNS`; ``tests/orders`` checks the two lists agree).
COPY_LINES = (
    "COPY order_lines (order_id, position, sku, name, quantity, unit_price, is_product) FROM STDIN"
)
INSERT_LINES_QMARK = (
    "INSERT INTO order_lines (order_id, position, sku, name, quantity, unit_price, is_product) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def headers_by_id(session: Session, order_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored headers (column dicts) of those ``order_ids`` that exist."""
    found: dict[str, dict[str, Any]] = {}
    columns = [ORDERS.c.id, *(ORDERS.c[name] for name in HEADER_COLUMNS)]
    for chunk in chunks(order_ids):
        for row in session.execute(select(*columns).where(ORDERS.c.id.in_(chunk))).mappings():
            found[row["id"]] = dict(row)
    return found


def line_tuples_by_order(
    session: Session, order_ids: Sequence[str]
) -> dict[str, list[tuple[Any, ...]]]:
    """Each order's lines as tuples of :data:`LINE_COLUMNS`, in position order."""
    found: dict[str, list[tuple[Any, ...]]] = {order_id: [] for order_id in order_ids}
    columns = [ORDER_LINES.c.order_id, *(ORDER_LINES.c[name] for name in LINE_COLUMNS)]
    for chunk in chunks(order_ids):
        query = (
            select(*columns)
            .where(ORDER_LINES.c.order_id.in_(chunk))
            .order_by(ORDER_LINES.c.order_id, ORDER_LINES.c.position)
        )
        for row in session.execute(query):
            found[row[0]].append(tuple(row[1:]))
    return found


def insert_orders(session: Session, headers: Sequence[dict[str, Any]]) -> None:
    if headers:
        session.execute(insert(ORDERS), list(headers))


def update_orders(session: Session, headers: Sequence[dict[str, Any]]) -> None:
    """Rewrite whole headers (every :data:`HEADER_COLUMNS` plus ``updated_at``) by id."""
    if not headers:
        return
    statement = (
        update(ORDERS)
        .where(ORDERS.c.id == bindparam("key_id"))
        .values({name: bindparam(name) for name in (*HEADER_COLUMNS, "updated_at")})
    )
    session.execute(
        statement,
        [{**{k: v for k, v in row.items() if k != "id"}, "key_id": row["id"]} for row in headers],
    )


def delete_lines(session: Session, order_ids: Sequence[str]) -> None:
    for chunk in chunks(order_ids):
        session.execute(delete(ORDER_LINES).where(ORDER_LINES.c.order_id.in_(chunk)))


def insert_lines(session: Session, lines: Sequence[tuple[Any, ...]]) -> None:
    """Insert lines given as tuples of ``order_id`` then :data:`LINE_COLUMNS`.

    This is the hot path of an import (540,000 lines for Online Retail), so it talks to the
    driver directly: ``COPY`` on PostgreSQL, a plain executemany on SQLite. Going through
    SQLAlchemy's per-row parameter processing took three times as long on SQLite and ten
    times as long on PostgreSQL. Other databases take the portable Core path.
    """
    if not lines:
        return
    columns = ("order_id", *LINE_COLUMNS)
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        driver_connection: Any = connection.connection.driver_connection
        with (
            driver_connection.cursor() as cursor,
            cursor.copy(COPY_LINES) as copy,
        ):
            for line in lines:
                copy.write_row(line)
    elif dialect.name == "sqlite":
        # SQLite has no decimal type; SQLAlchemy's Numeric binds floats, and so does this.
        price = columns.index("unit_price")
        rows = [(*line[:price], float(line[price]), *line[price + 1 :]) for line in lines]
        connection.exec_driver_sql(INSERT_LINES_QMARK, rows)
    else:
        session.execute(
            insert(ORDER_LINES), [dict(zip(columns, line, strict=True)) for line in lines]
        )


def get_order(session: Session, order_id: str) -> Order | None:
    return session.get(Order, order_id)


def orders_of(session: Session, customer_id: str) -> list[Order]:
    """A customer's orders, newest first (the order a customer-360 view shows them in)."""
    return list(
        session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.placed_at.desc(), Order.id)
        )
    )


def lines_of(session: Session, order_id: str) -> list[OrderLine]:
    """An order's lines in the order the shop sent them."""
    return list(
        session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
        )
    )


def refund_state(session: Session, order_id: str) -> tuple[Decimal, Decimal | None] | None:
    """``(total, refunded)`` of an order, or ``None`` if it is unknown."""
    row = session.execute(
        select(ORDERS.c.total, ORDERS.c.refunded).where(ORDERS.c.id == order_id)
    ).first()
    return None if row is None else (row[0], row[1])


def set_order_values(session: Session, order_id: str, values: dict[str, Any]) -> None:
    session.execute(update(ORDERS).where(ORDERS.c.id == order_id).values(values))
