"""Every query personas need: feature inputs into the engine, models and assignments stored.

Feature inputs reuse the analytics repository's queries (customer ids resolved through
identities and merges once, read in chunks as Arrow) and add what clustering needs beyond
them: whether an order used a coupon or a discount, and each event's traffic medium and the
category path and price tier of its product.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend
from sqlalchemy import Integer, case, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from shopkeeper.analytics import repository as analytics_repository
from shopkeeper.analytics.repository import COUNTED_STATUSES, UTC_TIMESTAMP, AnySelect
from shopkeeper.models import CustomerPersona, Event, Order, PersonaModel, Product

ORDERS_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("customer_id", pa.string()),
        ("timestamp", UTC_TIMESTAMP),
        ("amount", pa.float64()),
        ("items", pa.int64()),
        ("channel", pa.string()),
        ("status", pa.string()),
        ("counted", pa.int64()),
        ("coupon", pa.int64()),
    ]
)

EVENTS_SCHEMA = pa.schema(
    [
        *analytics_repository.EVENTS_SCHEMA,
        ("medium", pa.string()),
        ("category", pa.string()),
        ("price_tier", pa.string()),
    ]
)


def orders_query() -> AnySelect:
    """The analytics orders plus ``counted`` and ``coupon`` (a code or a discount) as 0/1."""
    counted = case((Order.status.in_(COUNTED_STATUSES), 1), else_=0)
    discounted = (Order.coupon.is_not(None)) | (func.coalesce(Order.discount, 0) > 0)
    coupon = case((discounted, 1), else_=0)
    query: AnySelect = analytics_repository.orders_query().add_columns(
        counted.cast(Integer), coupon.cast(Integer)
    )
    return query


def events_query() -> AnySelect:
    """The analytics events plus medium and the product's category path and price tier."""
    query: AnySelect = (
        analytics_repository.events_query()
        .add_columns(Event.medium, Product.category_path, Product.price_tier)
        .outerjoin(Product, Product.sku == Event.sku)
    )
    return query


def load(connection: Connection, con: BaseBackend) -> dict[str, int]:
    """Register ``orders`` and ``events`` (with the persona columns) in ``con``."""
    orders = analytics_repository.read_arrow(connection, orders_query(), ORDERS_SCHEMA)
    for name in ("counted", "coupon"):
        index = orders.schema.get_field_index(name)
        orders = orders.set_column(index, name, pc.not_equal(orders.column(name), 0))
    events = analytics_repository.read_arrow(connection, events_query(), EVENTS_SCHEMA)
    con.create_table("orders", orders, temp=True, overwrite=True)
    con.create_table("events", events, temp=True, overwrite=True)
    return {"orders": orders.num_rows, "events": events.num_rows}


# --- models and assignments -------------------------------------------------------------------


def add_model(session: Session, model: PersonaModel) -> PersonaModel:
    session.add(model)
    session.flush()
    return model


def make_current(session: Session, model_id: int) -> None:
    """Only ``model_id`` is current; older assignments go (one persona per customer)."""
    session.execute(update(PersonaModel).values(is_current=PersonaModel.id == model_id))
    session.execute(delete(CustomerPersona).where(CustomerPersona.model_id != model_id))


def add_assignments(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    chunk = analytics_repository.CHUNK_ROWS
    for offset in range(0, len(rows), chunk):
        session.execute(insert(CustomerPersona), list(rows[offset : offset + chunk]))
    return len(rows)


def current_model(session: Session) -> PersonaModel | None:
    return session.scalars(
        select(PersonaModel).where(PersonaModel.is_current).order_by(PersonaModel.id.desc())
    ).first()


def model(session: Session, model_id: int) -> PersonaModel | None:
    return session.get(PersonaModel, model_id)


def models(session: Session) -> list[PersonaModel]:
    return list(session.scalars(select(PersonaModel).order_by(PersonaModel.id.desc())))


def members(
    session: Session, model_id: int, cluster: int, *, limit: int, offset: int
) -> tuple[int, list[str]]:
    """How many customers a persona has, and a page of their ids (sorted)."""
    where = (CustomerPersona.model_id == model_id) & (CustomerPersona.cluster == cluster)
    total = session.scalar(select(func.count()).select_from(CustomerPersona).where(where)) or 0
    ids = session.scalars(
        select(CustomerPersona.customer_id)
        .where(where)
        .order_by(CustomerPersona.customer_id)
        .limit(limit)
        .offset(offset)
    )
    return int(total), list(ids)


def persona_of(session: Session, customer_id: str) -> str | None:
    """The current persona name of one customer (the real-time side of the ``persona`` field)."""
    return session.scalar(
        select(CustomerPersona.persona).where(CustomerPersona.customer_id == customer_id)
    )


PERSONAS_SCHEMA = pa.schema([("customer_id", pa.string()), ("persona", pa.string())])


def personas_arrow(connection: Connection) -> pa.Table:
    """``customer_id, persona`` of every assigned customer (the batch side's column)."""
    query: AnySelect = select(CustomerPersona.customer_id, CustomerPersona.persona)
    return analytics_repository.read_arrow(connection, query, PERSONAS_SCHEMA)


def created_at(session: Session) -> datetime | None:
    model = current_model(session)
    return model.created_at if model else None
