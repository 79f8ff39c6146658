"""Every query of the recommendations domain (SQLAlchemy Core, both backends).

Training reads whole tables once; serving resolves one visitor (identity unique index) and
reads their purchases and last events with one query each, which the indexes
``ix_orders_customer_placed``, ``ix_events_user_ts`` and ``ix_events_anon_ts`` serve. Serving
selects only the columns it needs and builds no ORM objects.

Only orders linked to a customer train the models: an erasure keeps the erased person's orders
for the books with the customer link removed, and a model must not learn from those.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, and_, desc, func, literal_column, or_, select, union, union_all
from sqlalchemy.orm import Session

from shopkeeper.customers.repository import LOOKUP_KINDS, MAX_MERGE_DEPTH
from shopkeeper.models import Customer, Event, Identity, Order, OrderLine, Product

#: Event kinds that say a visitor looked at or wanted a product.
PRODUCT_KINDS = ("product_viewed", "product_added")
#: Events read per visitor for session-aware re-ranking.
RECENT_EVENTS = 30


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


def product(
    session: Session, sku: str
) -> tuple[str | None, str | None, str | None, str | None] | None:
    """(title, category path, brand, price tier) of one product, or ``None``."""
    query = select(Product.title, Product.category_path, Product.brand, Product.price_tier).where(
        Product.sku == sku
    )
    row = session.execute(query).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


# --- serving: a few indexed Core queries per request, no ORM objects ---------------------------


def live_customer(session: Session, identifier: str) -> str | None:
    """The live profile behind a customer id, userId, anonymousId, e-mail or loyalty id.

    One query: the id itself or the identity ``(kind, value)`` unique index, the id preferred
    (as :func:`shopkeeper.customers.repository.find_customer`). A merged-away profile is
    followed to the one it joined (one more primary-key read per merge, rarely any).
    """
    values = {identifier, identifier.strip().lower()}
    by_id: Any = select(
        literal_column("0").label("rank"), Customer.id, Customer.merged_into_id
    ).where(Customer.id == identifier)
    by_identity: Any = (
        select(literal_column("1"), Customer.id, Customer.merged_into_id)
        .join(Identity, Identity.customer_id == Customer.id)
        .where(Identity.kind.in_(LOOKUP_KINDS), Identity.value.in_(values))
    )
    row = session.execute(union_all(by_id, by_identity).order_by("rank").limit(1)).first()
    seen: set[str] = set()
    while row is not None and row[2] and row[1] not in seen and len(seen) < MAX_MERGE_DEPTH:
        seen.add(row[1])
        row = session.execute(
            select(literal_column("0"), Customer.id, Customer.merged_into_id).where(
                Customer.id == row[2]
            )
        ).first()
    return None if row is None else str(row[1])


def _profiles(customer_ids: Collection[str]) -> Any:
    """The profiles and those merged into them (merges move rows, so one level suffices)."""
    return select(Customer.id).where(
        or_(Customer.id.in_(customer_ids), Customer.merged_into_id.in_(customer_ids))
    )


def purchases_of(session: Session, customer_ids: Collection[str]) -> list[tuple[str, datetime]]:
    """(sku, placed_at) of one person's completed product lines, oldest first (one query)."""
    query = (
        select(OrderLine.sku, Order.placed_at)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            Order.customer_id.in_(_profiles(customer_ids)),
            Order.status == "completed",
            OrderLine.is_product.is_(True),
        )
        .order_by(Order.placed_at)
    )
    return [(sku, placed_at) for sku, placed_at in session.execute(query)]


def _by_visitor(
    columns: Sequence[Any], where: Any, customer_ids: Collection[str], anonymous_id: str | None
) -> list[Any]:
    """Selects of the visitor's events: by their userIds, by their anonymousIds, and by
    ``anonymous_id`` itself (events arrive before an identity links it). Each part is served
    by its ``(id, timestamp)`` index; an ``OR`` across the two columns would scan."""
    parts = []
    if customer_ids:
        for kind, column in (("user_id", Event.user_id), ("anonymous_id", Event.anonymous_id)):
            keys = select(Identity.value).where(
                Identity.customer_id.in_(_profiles(customer_ids)), Identity.kind == kind
            )
            parts.append(select(*columns).where(where, column.in_(keys)))
    if anonymous_id:
        parts.append(select(*columns).where(where, Event.anonymous_id == anonymous_id))
    return parts


def recent_product_events(
    session: Session, customer_ids: Collection[str], anonymous_id: str | None
) -> list[tuple[str, str, datetime]]:
    """(sku, kind, timestamp) of the visitor's last :data:`RECENT_EVENTS` views and adds,
    newest first, in one query."""
    columns = (Event.id, Event.timestamp, Event.sku, Event.kind)
    where = and_(Event.kind.in_(PRODUCT_KINDS), Event.sku.is_not(None))
    parts = _by_visitor(columns, where, customer_ids, anonymous_id)
    if not parts:
        return []
    query = union(*parts).order_by(desc("timestamp"), desc("id")).limit(RECENT_EVENTS)
    return [(str(sku), kind, ts) for _, ts, sku, kind in session.execute(query)]


def latest_source(
    session: Session, customer_ids: Collection[str], anonymous_id: str | None
) -> str | None:
    """The traffic source (utm source) of the visitor's latest event that has one."""
    columns = (Event.id, Event.timestamp, Event.source)
    parts = _by_visitor(columns, Event.source.is_not(None), customer_ids, anonymous_id)
    if not parts:
        return None
    query = union(*parts).order_by(desc("timestamp"), desc("id")).limit(1)
    row = session.execute(query).first()
    return None if row is None else str(row[2])


def stock_flags(session: Session) -> dict[str, bool]:
    """Every product's stock flag (what the serving snapshot holds between refreshes)."""
    return {sku: bool(flag) for sku, flag in session.execute(select(Product.sku, Product.in_stock))}
