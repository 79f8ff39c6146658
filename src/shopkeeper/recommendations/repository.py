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
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Row, and_, bindparam, func, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from shopkeeper.customers.repository import (
    LOOKUP_KINDS,
    MAX_MERGE_DEPTH,
    ProductFacts,
    products_by_sku,
)
from shopkeeper.db import Reader, ReadStatement
from shopkeeper.events.repository import EVENT_KEYS
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


def product(reader: Reader, sku: str) -> ProductFacts | None:
    """Title, category path, brand and price tier of one product, or ``None``."""
    return products_by_sku(reader, [sku]).get(sku)


# --- serving: a few indexed queries per request, on a Reader -----------------------------------


# Serving statements are built once, with bind parameters, on the tables (not the ORM
# classes), and run by a :class:`~shopkeeper.db.Reader` on the DBAPI cursor: a session, its
# connection checkout and SQLAlchemy's execution layer cost several times the query itself.
_customers = Customer.__table__.c
_identities = Identity.__table__.c
_orders = Order.__table__.c
_lines = OrderLine.__table__.c
_events = Event.__table__.c
_ids: Any = bindparam("customer_ids", expanding=True)

_LIVE = ReadStatement(
    union_all(
        select(literal_column("0").label("rank"), _customers.id, _customers.merged_into_id).where(
            _customers.id == bindparam("identifier")
        ),
        select(literal_column("1"), _customers.id, _customers.merged_into_id)
        .join_from(Identity.__table__, Customer.__table__, _identities.customer_id == _customers.id)
        .where(
            _identities.kind.in_(LOOKUP_KINDS),
            _identities.value.in_(bindparam("values", expanding=True)),
        ),
    )
    .order_by("rank")
    .limit(1),
    lists=("values",),
)
_CUSTOMER = ReadStatement(
    select(literal_column("0"), _customers.id, _customers.merged_into_id).where(
        _customers.id == bindparam("identifier")
    )
)
#: The profiles and those merged into them (merges move rows, so one level suffices).
_PROFILES = select(_customers.id).where(
    or_(_customers.id.in_(_ids), _customers.merged_into_id.in_(_ids))
)
_PURCHASES = ReadStatement(
    select(_lines.sku, _orders.placed_at)
    .join_from(Order.__table__, OrderLine.__table__, _lines.order_id == _orders.id)
    .where(
        _orders.customer_id.in_(_PROFILES),
        _orders.status == "completed",
        _lines.is_product.is_(True),
    )
    .order_by(_orders.placed_at),
    lists=("customer_ids",),
)
# no ``kind`` condition: it lures SQLite onto the (kind, value) index and a scan of every
# identity of that kind; a profile's few identities are filtered in Python instead
_KEYS = ReadStatement(
    select(_identities.kind, _identities.value).where(_identities.customer_id.in_(_PROFILES)),
    lists=("customer_ids",),
)
_RECENT_COLUMNS = (_events.id, _events.timestamp, _events.sku, _events.kind)
_RECENT_WHERE = and_(_events.kind.in_(PRODUCT_KINDS), _events.sku.is_not(None))
_SOURCE_COLUMNS = (_events.id, _events.timestamp, _events.source)
_SOURCE_WHERE = _events.source.is_not(None)


def live_customer(reader: Reader, identifier: str) -> str | None:
    """The live profile behind a customer id, userId, anonymousId, e-mail or loyalty id.

    One query: the id itself or the identity ``(kind, value)`` unique index, the id preferred
    (as :func:`shopkeeper.customers.repository.find_customer`). A merged-away profile is
    followed to the one it joined (one more primary-key read per merge, rarely any).
    """
    values = list({identifier, identifier.strip().lower()})
    row = reader.first(_LIVE, identifier=identifier, values=values)
    seen: set[str] = set()
    while row is not None and row[2] and row[1] not in seen and len(seen) < MAX_MERGE_DEPTH:
        seen.add(row[1])
        row = reader.first(_CUSTOMER, identifier=row[2])
    return None if row is None else str(row[1])


def purchases_of(reader: Reader, customer_ids: Collection[str]) -> list[tuple[str, datetime]]:
    """(sku, placed_at) of one person's completed product lines, oldest first (one query)."""
    return [
        (sku, placed_at)
        for sku, placed_at in reader.all(_PURCHASES, customer_ids=list(customer_ids))
    ]


def visitor_keys(
    reader: Reader, customer_ids: Collection[str], anonymous_id: str | None
) -> list[tuple[str, str]]:
    """(kind, value) of the userIds and anonymousIds the visitor's events carry: the
    profiles' identities (one query on ``identities.customer_id``) and ``anonymous_id``
    itself (events arrive before an identity links it to a profile)."""
    keys: list[tuple[str, str]] = []
    if customer_ids:
        rows = reader.all(_KEYS, customer_ids=list(customer_ids))
        keys = [(kind, value) for kind, value in rows if kind in EVENT_KEYS]
    if anonymous_id and ("anonymous_id", anonymous_id) not in keys:
        keys.append(("anonymous_id", anonymous_id))
    users = [key for key in keys if key[0] == "user_id"][:MAX_KEYS]
    return users + [key for key in keys if key[0] == "anonymous_id"][:MAX_KEYS]


@cache
def _per_key(kinds: tuple[str, ...], what: str, limit: int) -> ReadStatement:
    """One statement: per identifier (bound as ``k0``, ``k1``...), its newest ``limit``
    matching events, for one shape of identifiers (built once per shape).

    Each part is ``column = value ORDER BY timestamp DESC LIMIT n`` so the database walks
    ``ix_events_user_ts`` / ``ix_events_anon_ts`` backwards and stops at the limit; an ``IN``
    list or an ``OR`` across the two columns makes SQLite scan ``ix_events_kind_ts`` instead.
    """
    columns, where = (
        (_RECENT_COLUMNS, _RECENT_WHERE) if what == "recent" else (_SOURCE_COLUMNS, _SOURCE_WHERE)
    )
    parts = []
    for n, kind in enumerate(kinds):
        # an event is its userId's, else its anonymousId's (events.repository.event_owner)
        owned = (
            _events.user_id == bindparam(f"k{n}")
            if kind == "user_id"
            else and_(_events.user_id.is_(None), _events.anonymous_id == bindparam(f"k{n}"))
        )
        part = (
            select(*columns)
            .where(owned, where)
            .order_by(_events.timestamp.desc())
            .limit(limit)
            .subquery()
        )
        parts.append(select(*part.c))
    return ReadStatement(parts[0] if len(parts) == 1 else union_all(*parts))


def _newest(reader: Reader, keys: Sequence[tuple[str, str]], what: str, limit: int) -> list[Any]:
    statement = _per_key(tuple(kind for kind, _ in keys), what, limit)
    params = {f"k{n}": value for n, (_, value) in enumerate(keys)}
    rows = {row[0]: row for row in reader.all(statement, **params)}
    return sorted(rows.values(), key=lambda row: (row[1], row[0]), reverse=True)[:limit]


def recent_product_events(
    reader: Reader, keys: Sequence[tuple[str, str]]
) -> list[tuple[str, str, datetime]]:
    """(sku, kind, timestamp) of the visitor's last :data:`RECENT_EVENTS` views and adds,
    newest first (one query)."""
    if not keys:
        return []
    return [
        (str(sku), kind, ts) for _, ts, sku, kind in _newest(reader, keys, "recent", RECENT_EVENTS)
    ]


def latest_source(reader: Reader, keys: Sequence[tuple[str, str]]) -> str | None:
    """The traffic source (utm source) of the visitor's latest event that has one."""
    if not keys:
        return None
    rows = _newest(reader, keys, "source", 1)
    return str(rows[0][2]) if rows else None


def stock_flags(session: Session) -> dict[str, bool]:
    """Every product's stock flag (what the serving snapshot holds between refreshes)."""
    return {sku: bool(flag) for sku, flag in session.execute(select(Product.sku, Product.in_stock))}
