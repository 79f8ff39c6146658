"""Queries about customers. Every lookup of a customer by an identifier goes through here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, or_, select, union_all
from sqlalchemy.orm import Session

from shopkeeper.db import ReadSource, ReadStatement, read_rows
from shopkeeper.events.kinds import SYSTEM_KINDS
from shopkeeper.events.repository import event_owner
from shopkeeper.models import Consent, Customer, Event, Identity, Merge, Order, OrderLine, Product

#: Identifier kinds tried, in order, when a caller gives a bare identifier.
LOOKUP_KINDS = ("user_id", "anonymous_id", "email", "loyalty_id")


# The hot reads of a profile are built once: SQLAlchemy then skips building and hashing the
# statement on every request, and ``expanding`` parameters take lists of any length. Column
# reads go through ``read_rows`` (a reader on the hot paths, or the caller's session).


class CustomerFacts(NamedTuple):
    """The customer columns a profile needs, read without the ORM (see :func:`customer_facts`)."""

    id: str
    email: str | None
    traits: dict[str, Any]
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    merged_into_id: str | None


_c = Customer.__table__.c
_FACTS = (_c.id, _c.email, _c.traits, _c.first_seen_at, _c.last_seen_at, _c.merged_into_id)
_FACTS_BY_ID = ReadStatement(select(*_FACTS).where(_c.id == bindparam("id")), row=CustomerFacts)
_FACTS_BY_IDENTIFIER = ReadStatement(
    select(*_FACTS)
    .join(Identity.__table__, Identity.__table__.c.customer_id == _c.id)
    .where(
        Identity.__table__.c.value.in_(bindparam("values", expanding=True)),
        Identity.__table__.c.kind.in_(LOOKUP_KINDS),
    )
    .limit(1),
    lists=("values",),
    row=CustomerFacts,
)


def customer_facts(source: ReadSource, identifier: str) -> CustomerFacts | None:
    """The live customer behind ``identifier`` — a customer id, a userId, an anonymousId, an
    e-mail or a loyalty id — as plain facts. A merged-away profile resolves to the profile it
    joined."""

    def first(statement: ReadStatement, **parameters: Any) -> CustomerFacts | None:
        rows = read_rows(source, statement, parameters)
        return rows[0] if rows else None

    # Customer ids all start "cus_" (new_id), so other identifiers skip the primary-key probe.
    customer = first(_FACTS_BY_ID, id=identifier) if identifier.startswith("cus_") else None
    if customer is None:
        values = sorted({identifier, identifier.strip().lower()})
        customer = first(_FACTS_BY_IDENTIFIER, values=values)
    seen: set[str] = set()
    while customer is not None and customer.merged_into_id and customer.id not in seen:
        seen.add(customer.id)
        customer = first(_FACTS_BY_ID, id=customer.merged_into_id)
    return customer


def find_customer(session: Session, identifier: str) -> Customer | None:
    """:func:`customer_facts` as the session's ORM object (for units of work that change it)."""
    facts = customer_facts(session, identifier)
    return None if facts is None else session.get(Customer, facts.id)


def identities_of(session: Session, customer_id: str) -> list[Identity]:
    return list(
        session.scalars(
            select(Identity).where(Identity.customer_id == customer_id).order_by(Identity.id)
        )
    )


# --- Customer 360 (read side) -------------------------------------------------------------

#: Most merges followed when collecting the profiles merged into a customer (guards cycles).
MAX_MERGE_DEPTH = 1000


_LOSERS = ReadStatement(
    select(Merge.loser_id)
    .where(Merge.winner_id.in_(bindparam("winners", expanding=True)), Merge.undone_at.is_(None))
    .order_by(Merge.created_at, Merge.id),
    lists=("winners",),
)


def merged_into(session: ReadSource, customer_id: str) -> list[str]:
    """Ids of the profiles merged into ``customer_id``, directly or through a chain of merges,
    oldest merge first; undone merges are skipped."""
    found: list[str] = []
    frontier = [customer_id]
    seen = {customer_id}
    while frontier and len(found) < MAX_MERGE_DEPTH:
        rows = read_rows(session, _LOSERS, {"winners": frontier})
        frontier = [loser for (loser,) in rows if loser not in seen]
        seen.update(frontier)
        found.extend(frontier)
    return found


class IdentityFacts(NamedTuple):
    kind: str
    value: str
    created_at: datetime


def identities_of_all(session: ReadSource, customer_ids: Sequence[str]) -> list[IdentityFacts]:
    """Identities of several profiles (a customer and those merged into it), oldest first."""
    return read_rows(session, _IDENTITIES, {"ids": list(customer_ids)})


_IDENTITIES = ReadStatement(
    select(Identity.kind, Identity.value, Identity.created_at)
    .where(Identity.customer_id.in_(bindparam("ids", expanding=True)))
    .order_by(Identity.created_at, Identity.id),
    lists=("ids",),
    row=IdentityFacts,
)


#: The columns the profile needs from each event (no JSON columns: they cost the most to load).
PROFILE_EVENT_COLUMNS = (
    Event.timestamp,
    Event.kind,
    Event.session_id,
    Event.sku,
    Event.query,
    Event.channel,
    Event.device_type,
    Event.country,
    Event.city,
    Event.source,
    Event.medium,
    Event.traffic_channel,
)


class EventFacts(NamedTuple):
    """The :data:`PROFILE_EVENT_COLUMNS` of one event."""

    timestamp: datetime
    kind: str
    session_id: str | None
    sku: str | None
    query: str | None
    channel: str | None
    device_type: str | None
    country: str | None
    city: str | None
    source: str | None
    medium: str | None
    traffic_channel: str | None


def profile_events(
    session: ReadSource, user_ids: Sequence[str], anonymous_ids: Sequence[str], limit: int
) -> list[EventFacts]:
    """The newest ``limit`` events of these identifiers, newest first, profile columns only.

    Events Shopkeeper wrote itself (``SYSTEM_KINDS``: segment entered/exited) are left out:
    they are not the customer's activity.
    """
    if not user_ids and not anonymous_ids:
        return []
    parameters: dict[str, Any] = {"limit": limit}
    if user_ids:
        parameters["users"] = list(user_ids)
    if anonymous_ids:
        parameters["anonymous"] = list(anonymous_ids)
    statement = _PROFILE_EVENTS[(bool(user_ids), bool(anonymous_ids))]
    return read_rows(session, statement, parameters)


def _profile_events(users: bool, anonymous: bool) -> ReadStatement:
    """The newest events of each side of :func:`event_owner` (userIds; anonymousIds without a
    userId), then the newest of both. Each side alone is read from its per-visitor index,
    which carries every profile column (``models.events``, migration 0007): an ``OR`` of the
    two makes SQLite collect row ids and fetch each row, one scattered page of the log per
    event."""
    limit: BindParameter[int] = bindparam("limit")
    lists = ("users",) * users + ("anonymous",) * anonymous

    def side(owner: ColumnElement[bool], *more: Any) -> Select[*tuple[Any, ...]]:
        return (
            select(*PROFILE_EVENT_COLUMNS, *more)
            .where(owner, Event.kind.not_in(SYSTEM_KINDS))
            .order_by(Event.timestamp.desc(), Event.id.desc())
            .limit(limit)
        )

    user_side = event_owner(bindparam("users", expanding=True), ())
    anonymous_side = event_owner((), bindparam("anonymous", expanding=True))
    if not (users and anonymous):
        return ReadStatement(
            side(user_side if users else anonymous_side), lists=lists, row=EventFacts
        )
    parts = [side(owner, Event.id).subquery() for owner in (user_side, anonymous_side)]
    both = union_all(*(select(*part.c) for part in parts)).subquery()
    return ReadStatement(
        select(*(both.c[column.key] for column in PROFILE_EVENT_COLUMNS))
        .order_by(both.c.timestamp.desc(), both.c.id.desc())
        .limit(limit),
        lists=lists,
        row=EventFacts,
    )


#: The profile's events query for each (has userIds, has anonymousIds).
_PROFILE_EVENTS = {
    (u, a): _profile_events(u, a) for u, a in ((True, True), (True, False), (False, True))
}


def events_page(
    session: Session,
    user_ids: Sequence[str],
    anonymous_ids: Sequence[str],
    *,
    limit: int,
    before: datetime | None = None,
    before_id: int | None = None,
) -> list[Event]:
    """Whole events newest first, strictly before ``(before, before_id)`` when given."""
    if not user_ids and not anonymous_ids:
        return []
    query = select(Event).where(event_owner(user_ids, anonymous_ids))
    if before is not None and before_id is not None:
        query = query.where(
            or_(
                Event.timestamp < before,
                and_(Event.timestamp == before, Event.id < before_id),
            )
        )
    elif before is not None:
        query = query.where(Event.timestamp < before)
    return list(
        session.scalars(query.order_by(Event.timestamp.desc(), Event.id.desc()).limit(limit))
    )


class OrderFacts(NamedTuple):
    """The order columns a profile needs (rows, not ORM objects: a profile read is hot)."""

    id: str
    status: str
    channel: str
    placed_at: datetime
    total: Decimal
    refunded: Decimal | None


def orders_of(session: ReadSource, customer_ids: Sequence[str]) -> list[OrderFacts]:
    """Every order of these profiles, newest first."""
    return read_rows(session, _ORDERS, {"ids": list(customer_ids)})


_ORDERS = ReadStatement(
    select(Order.id, Order.status, Order.channel, Order.placed_at, Order.total, Order.refunded)
    .where(Order.customer_id.in_(bindparam("ids", expanding=True)))
    .order_by(Order.placed_at.desc(), Order.id.desc()),
    lists=("ids",),
    row=OrderFacts,
)


class LineFacts(NamedTuple):
    order_id: str
    sku: str
    is_product: bool


def lines_of(session: ReadSource, order_ids: Sequence[str]) -> list[LineFacts]:
    if not order_ids:
        return []
    return read_rows(session, _LINES, {"ids": list(order_ids)})


_LINES = ReadStatement(
    select(OrderLine.order_id, OrderLine.sku, OrderLine.is_product)
    .where(OrderLine.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(OrderLine.order_id, OrderLine.position),
    lists=("ids",),
    row=LineFacts,
)


class ProductFacts(NamedTuple):
    """The catalog columns a profile needs (loading whole products costs ~4x more)."""

    sku: str
    title: str | None
    category_path: str | None
    brand: str | None
    price_tier: str | None


def products_by_sku(session: ReadSource, skus: Iterable[str]) -> dict[str, ProductFacts]:
    """Catalog facts for ``skus`` in one query (unknown skus are simply absent)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    return {row.sku: row for row in read_rows(session, _PRODUCTS, {"skus": wanted})}


_PRODUCTS = ReadStatement(
    select(
        Product.sku, Product.title, Product.category_path, Product.brand, Product.price_tier
    ).where(Product.sku.in_(bindparam("skus", expanding=True))),
    lists=("skus",),
    row=ProductFacts,
)


class ConsentFacts(NamedTuple):
    purpose: str
    granted: bool
    source: str
    recorded_at: datetime


def consents_of(session: ReadSource, customer_ids: Sequence[str]) -> list[ConsentFacts]:
    """Consent history of these profiles in the order it was written (the last row per purpose
    is in force). Ordered by row id, not ``recorded_at``: ingest records a late event's consent
    with the event's older timestamp, and the identity graph, which decides whether a change is
    a change, reads history in row order too; both must agree on what is in force."""
    return read_rows(session, _CONSENTS, {"ids": list(customer_ids)})


_CONSENTS = ReadStatement(
    select(Consent.purpose, Consent.granted, Consent.source, Consent.recorded_at)
    .where(Consent.customer_id.in_(bindparam("ids", expanding=True)))
    .order_by(Consent.id),
    lists=("ids",),
    row=ConsentFacts,
)
