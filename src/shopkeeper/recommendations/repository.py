"""Every query of the recommendations domain (SQLAlchemy Core, both backends).

Training reads whole tables once; serving reads one visitor's purchases and last events, which
the indexes ``ix_orders_customer_placed``, ``ix_events_user_ts`` and ``ix_events_anon_ts`` serve.

Only orders linked to a customer train the models: an erasure keeps the erased person's orders
for the books with the customer link removed, and a model must not learn from those.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, and_, func, select, union_all
from sqlalchemy.orm import Session

from shopkeeper.models import Customer, Event, Identity, Order, OrderLine, Product

#: Event kinds that say a visitor looked at or wanted a product.
PRODUCT_KINDS = ("product_viewed", "product_added")
#: Events read per visitor for session-aware re-ranking.
RECENT_EVENTS = 30
#: Identifiers of each kind whose events are read (a profile rarely has more than a few).
MAX_KEYS = 10


class Purchase(NamedTuple):
    customer_id: str
    order_id: str
    sku: str
    placed_at: datetime


class ProductEvent(NamedTuple):
    customer_id: str
    sku: str
    kind: str
    timestamp: datetime
    source: str | None


def _owner() -> Any:
    """The live profile a row belongs to (one level of merge is followed)."""
    return func.coalesce(Customer.merged_into_id, Customer.id)


def purchases(session: Session) -> list[Purchase]:
    """Product lines of completed orders that belong to a customer, oldest first."""
    query = (
        select(_owner(), Order.id, OrderLine.sku, Order.placed_at)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.status == "completed", OrderLine.is_product.is_(True))
        .order_by(Order.placed_at, Order.id, OrderLine.position)
    )
    return [Purchase(*row) for row in session.execute(query)]


def product_events(session: Session) -> list[ProductEvent]:
    """Views and adds of visitors known through an identity (events carry no customer id)."""
    columns = (_owner(), Event.sku, Event.kind, Event.timestamp, Event.source)
    base = and_(Event.kind.in_(PRODUCT_KINDS), Event.sku.is_not(None))
    by_user = (
        select(*columns)
        .join(Identity, and_(Identity.kind == "user_id", Identity.value == Event.user_id))
        .join(Customer, Customer.id == Identity.customer_id)
        .where(base, Event.user_id.is_not(None))
    )
    by_anonymous = (
        select(*columns)
        .join(Identity, and_(Identity.kind == "anonymous_id", Identity.value == Event.anonymous_id))
        .join(Customer, Customer.id == Identity.customer_id)
        .where(base, Event.user_id.is_(None))
    )
    return [ProductEvent(*row) for row in session.execute(union_all(by_user, by_anonymous))]


def catalog(session: Session) -> list[Row[Any]]:
    """Every product (non-product codes left out) with what content similarity reads."""
    query = select(
        Product.sku,
        Product.title,
        Product.category_path,
        Product.brand,
        Product.price_tier,
        Product.in_stock,
        Product.attributes,
    ).where(Product.is_product.is_(True))
    return list(session.execute(query.order_by(Product.sku)))


def product(session: Session, sku: str) -> Product | None:
    return session.get(Product, sku)


def visitor_keys(session: Session, customer_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """The userIds and anonymousIds of the given profiles (what their events carry)."""
    rows = session.execute(
        select(Identity.kind, Identity.value).where(
            Identity.customer_id.in_(customer_ids),
            Identity.kind.in_(("user_id", "anonymous_id")),
        )
    )
    user_ids: list[str] = []
    anonymous_ids: list[str] = []
    for kind, value in rows:
        (user_ids if kind == "user_id" else anonymous_ids).append(value)
    return user_ids, anonymous_ids


def purchases_of(session: Session, customer_ids: Sequence[str]) -> list[tuple[str, datetime]]:
    """(sku, placed_at) of one person's completed product lines, oldest first."""
    query = (
        select(OrderLine.sku, Order.placed_at)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            Order.customer_id.in_(customer_ids),
            Order.status == "completed",
            OrderLine.is_product.is_(True),
        )
        .order_by(Order.placed_at)
    )
    return [(sku, placed_at) for sku, placed_at in session.execute(query)]


def _per_identifier(
    user_ids: Collection[str], anonymous_ids: Collection[str]
) -> list[tuple[Any, str]]:
    """(column, value) pairs, one per identifier (the first :data:`MAX_KEYS` of each kind).

    Each pair is queried alone so the database walks ``ix_events_user_ts`` /
    ``ix_events_anon_ts`` backwards from the newest event and stops at the limit; an ``OR`` of
    ``IN`` lists makes SQLite scan and sort the whole events table instead.
    """
    users = [(Event.user_id, v) for v in list(user_ids)[:MAX_KEYS]]
    return users + [(Event.anonymous_id, v) for v in list(anonymous_ids)[:MAX_KEYS]]


def recent_product_events(
    session: Session, user_ids: Collection[str], anonymous_ids: Collection[str]
) -> list[tuple[str, str, datetime]]:
    """(sku, kind, timestamp) of the visitor's last views and adds, newest first."""
    rows: dict[int, tuple[datetime, str, str]] = {}
    for column, value in _per_identifier(user_ids, anonymous_ids):
        query = (
            select(Event.id, Event.timestamp, Event.sku, Event.kind)
            .where(column == value, Event.kind.in_(PRODUCT_KINDS), Event.sku.is_not(None))
            .order_by(Event.timestamp.desc())
            .limit(RECENT_EVENTS)
        )
        for event_id, timestamp, sku, kind in session.execute(query):
            rows[event_id] = (timestamp, str(sku), kind)
    newest = sorted(rows.items(), key=lambda row: (row[1][0], row[0]), reverse=True)
    return [(sku, kind, ts) for _, (ts, sku, kind) in newest[:RECENT_EVENTS]]


def latest_source(
    session: Session, user_ids: Collection[str], anonymous_ids: Collection[str]
) -> str | None:
    """The traffic source (utm source) of the visitor's latest event that has one."""
    found: list[tuple[datetime, str]] = []
    for column, value in _per_identifier(user_ids, anonymous_ids):
        query = (
            select(Event.timestamp, Event.source)
            .where(column == value, Event.source.is_not(None))
            .order_by(Event.timestamp.desc())
            .limit(1)
        )
        found += [(ts, str(source)) for ts, source in session.execute(query)]
    return max(found)[1] if found else None


def stock(session: Session, skus: Collection[str]) -> dict[str, bool]:
    """Current stock flag per sku (products the store no longer has are left out)."""
    if not skus:
        return {}
    rows = session.execute(select(Product.sku, Product.in_stock).where(Product.sku.in_(skus)))
    return {sku: bool(in_stock) for sku, in_stock in rows}
