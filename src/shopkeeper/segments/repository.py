"""Every query of the segments domain: definitions, memberships, sizes, and the engine inputs.

Engine inputs (:func:`load`) reuse the analytics hand-over: SQLAlchemy Core rows read in
chunks, turned into Arrow and registered as tables of the Ibis backend; events are resolved to
their live customer exactly as analytics does (:func:`~shopkeeper.analytics.repository.
resolved_events`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import Float, delete, func, insert, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session, aliased

from shopkeeper.analytics.repository import UTC_TIMESTAMP, AnySelect, read_arrow, resolved_events
from shopkeeper.customers.profile import COMPLETED, PURCHASED
from shopkeeper.events.kinds import SYSTEM_KINDS
from shopkeeper.events.repository import event_owner
from shopkeeper.models import (
    Consent,
    Customer,
    CustomerPersona,
    CustomerScore,
    Event,
    Identity,
    Order,
    OrderLine,
    Product,
    Segment,
    SegmentMembership,
    SegmentSize,
)

CHUNK = 1000
#: Event columns a rule's filters may read (the ``event`` scope of the field registry).
EVENT_COLUMNS = (
    "kind", "category", "brand", "price_tier", "sku", "source", "medium", "campaign",
    "device_type", "country", "value", "query",
)  # fmt: skip

SCHEMAS = {
    "people": pa.schema(
        [
            ("customer_id", pa.string()),
            ("first_seen_at", UTC_TIMESTAMP),
            ("email_consent", pa.bool_()),
        ]
    ),
    "orders": pa.schema(
        [
            ("customer_id", pa.string()),
            ("timestamp", UTC_TIMESTAMP),
            ("status", pa.string()),
            ("amount", pa.float64()),
        ]
    ),
    "lines": pa.schema(
        [
            ("customer_id", pa.string()),
            ("timestamp", UTC_TIMESTAMP),
            ("category", pa.string()),
            ("brand", pa.string()),
            ("price_tier", pa.string()),
        ]
    ),
    "events": pa.schema(
        [
            ("customer_id", pa.string()),
            ("timestamp", UTC_TIMESTAMP),
            ("session_id", pa.string()),
            *[(name, pa.float64() if name == "value" else pa.string()) for name in EVENT_COLUMNS],
        ]
    ),
    "scores": pa.schema(
        [
            ("customer_id", pa.string()),
            ("rfm_r", pa.int64()),
            ("rfm_f", pa.int64()),
            ("rfm_m", pa.int64()),
            ("rfm_segment", pa.string()),
            ("clv", pa.float64()),
            ("p_alive", pa.float64()),
            ("persona", pa.string()),
        ]
    ),
}


# --- definitions -------------------------------------------------------------------------------


def find(session: Session, key: str) -> Segment | None:
    """A segment by id or slug."""
    found = session.get(Segment, key)
    if found is None:
        found = session.scalar(select(Segment).where(Segment.slug == key))
    return found


def slug_taken(session: Session, slug: str) -> bool:
    return session.scalar(select(func.count()).where(Segment.slug == slug)) != 0


def all_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.slug)))


def delete_segment(session: Session, segment: Segment) -> None:
    for table in (SegmentMembership, SegmentSize):
        session.execute(
            delete(table).where(table.segment_id == segment.id),
            execution_options={"synchronize_session": False},
        )
    session.delete(segment)
    session.flush()


# --- memberships and sizes ---------------------------------------------------------------------


def open_members(session: Session, segment_id: str) -> set[str]:
    return set(
        session.scalars(
            select(SegmentMembership.customer_id).where(
                SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None)
            )
        )
    )


def sizes(session: Session, segment_ids: Sequence[str]) -> dict[str, int]:
    """Open memberships per segment (the current size)."""
    if not segment_ids:
        return {}
    rows = session.execute(
        select(SegmentMembership.segment_id, func.count())
        .where(SegmentMembership.segment_id.in_(segment_ids), SegmentMembership.exited_at.is_(None))
        .group_by(SegmentMembership.segment_id)
    )
    return {segment_id: int(n) for segment_id, n in rows}


def enter(session: Session, segment_id: str, customer_ids: Iterable[str], at: datetime) -> None:
    rows = [
        {"segment_id": segment_id, "customer_id": cid, "entered_at": at, "exited_at": None}
        for cid in customer_ids
    ]
    for start in range(0, len(rows), 10 * CHUNK):
        session.execute(insert(SegmentMembership), rows[start : start + 10 * CHUNK])


def exit_(session: Session, segment_id: str, customer_ids: Sequence[str], at: datetime) -> None:
    for chunk in _chunks(customer_ids):
        session.execute(
            update(SegmentMembership)
            .where(
                SegmentMembership.segment_id == segment_id,
                SegmentMembership.customer_id.in_(chunk),
                SegmentMembership.exited_at.is_(None),
            )
            .values(exited_at=at),
            execution_options={"synchronize_session": False},
        )


def add_size(
    session: Session, segment: Segment, at: datetime, size: int, entered: int, exited: int
) -> None:
    session.add(
        SegmentSize(
            segment_id=segment.id,
            version=segment.version,
            evaluated_at=at,
            size=size,
            entered=entered,
            exited=exited,
        )
    )


def size_history(session: Session, segment_id: str, limit: int) -> list[SegmentSize]:
    rows = session.scalars(
        select(SegmentSize)
        .where(SegmentSize.segment_id == segment_id)
        .order_by(SegmentSize.evaluated_at.desc(), SegmentSize.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


def members_page(
    session: Session, segment_id: str, limit: int, after: str | None
) -> list[tuple[str, datetime]]:
    """``(customer_id, entered_at)`` of current members in id order, after ``after``."""
    query = select(SegmentMembership.customer_id, SegmentMembership.entered_at).where(
        SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None)
    )
    if after is not None:
        query = query.where(SegmentMembership.customer_id > after)
    rows = session.execute(query.order_by(SegmentMembership.customer_id).limit(limit))
    return [(cid, at) for cid, at in rows]


def memberships_of(session: Session, customer_ids: Sequence[str]) -> list[SegmentMembership]:
    """Every membership interval of these profiles, oldest first."""
    return list(
        session.scalars(
            select(SegmentMembership)
            .where(SegmentMembership.customer_id.in_(customer_ids))
            .order_by(SegmentMembership.entered_at, SegmentMembership.id)
        )
    )


def member_emails(session: Session, segment_id: str) -> Iterator[tuple[str, str | None]]:
    """``(customer_id, e-mail)`` of current members: the profile's e-mail, else an e-mail
    identity."""
    identity = aliased(Identity)
    first_identity = (
        select(func.min(identity.value))
        .where(identity.customer_id == Customer.id, identity.kind == "email")
        .scalar_subquery()
    )
    query = (
        select(Customer.id, func.coalesce(Customer.email, first_identity))
        .join(SegmentMembership, SegmentMembership.customer_id == Customer.id)
        .where(SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None))
        .order_by(Customer.id)
    )
    rows = session.execute(query, execution_options={"yield_per": 10 * CHUNK})
    yield from ((cid, email) for cid, email in rows)


def consent_in_force(
    session: Session, purposes: Sequence[str], customer_ids: Sequence[str] | None = None
) -> dict[tuple[str, str], bool]:
    """``(live customer id, purpose) -> granted`` of the consent in force (the last row per
    purpose, in row order as the profile reads it), merged-away profiles counting for the
    profile they joined."""
    live = aliased(Customer)
    owner = func.coalesce(live.merged_into_id, live.id)
    query = (
        select(owner, Consent.purpose, Consent.granted)
        .join(live, live.id == Consent.customer_id)
        .where(Consent.purpose.in_(purposes))
        .order_by(Consent.id)
    )
    state: dict[tuple[str, str], bool] = {}
    if customer_ids is None:
        chunks: Iterable[Sequence[str] | None] = [None]
    else:
        chunks = list(_chunks(customer_ids))
    for chunk in chunks:
        scoped = (
            query
            if chunk is None
            else query.where(or_(live.id.in_(chunk), live.merged_into_id.in_(chunk)))
        )
        for cid, purpose, granted in session.execute(scoped):
            state[(cid, purpose)] = bool(granted)
    return state


def event_identities(
    session: Session, customer_ids: Sequence[str]
) -> dict[str, tuple[str | None, str | None]]:
    """``customer id -> (userId, anonymousId)`` to send a system event under: the first userId,
    else the first anonymousId, so the event resolves to the customer like their own."""
    found: dict[str, tuple[str | None, str | None]] = {}
    for chunk in _chunks(customer_ids):
        rows = session.execute(
            # kinds are told apart below: with ``kind IN`` here, SQLite would walk the unique
            # (kind, value) index through every identity of the shop (``triggers.repository``)
            select(Identity.customer_id, Identity.kind, Identity.value)
            .where(Identity.customer_id.in_(chunk))
            .order_by(Identity.id)
        )
        for cid, kind, value in rows:
            user, anon = found.get(cid, (None, None))
            if kind == "user_id" and user is None:
                found[cid] = (value, None)
            elif kind == "anonymous_id" and user is None and anon is None:
                found[cid] = (None, value)
    return found


# --- prioritisation ----------------------------------------------------------------------------


def member_value(session: Session, since: datetime) -> dict[str, dict[str, float]]:
    """Per segment: current size, members with a completed order since ``since``, their
    revenue and order count since then, and the summed CLV (and how many members have one)."""
    live = aliased(Customer)
    owner = func.coalesce(live.merged_into_id, live.id).label("owner")
    amount = sql_cast(Order.total, Float) - func.coalesce(sql_cast(Order.refunded, Float), 0.0)
    recent = (
        select(owner, amount.label("amount"))
        .join(live, live.id == Order.customer_id)
        .where(Order.status.in_(COMPLETED), Order.placed_at >= since)
        .subquery()
    )
    m = SegmentMembership
    rows = session.execute(
        select(
            m.segment_id,
            func.count(func.distinct(m.customer_id)),
            func.count(func.distinct(recent.c.owner)),
            func.coalesce(func.sum(recent.c.amount), 0.0),
            func.count(recent.c.amount),
        )
        .outerjoin(recent, recent.c.owner == m.customer_id)
        .where(m.exited_at.is_(None))
        .group_by(m.segment_id)
    )
    found = {
        sid: {
            "size": float(size),
            "buyers": float(buyers),
            "revenue": float(revenue),
            "orders": float(orders),
        }
        for sid, size, buyers, revenue, orders in rows
    }
    clv = session.execute(
        select(m.segment_id, func.sum(CustomerScore.clv), func.count(CustomerScore.clv))
        .join(CustomerScore, CustomerScore.customer_id == m.customer_id)
        .where(m.exited_at.is_(None))
        .group_by(m.segment_id)
    )
    for sid, total, n in clv:
        if sid in found:
            found[sid] |= {"clv": float(total or 0.0), "with_clv": float(n)}
    return found


def open_memberships(session: Session, segment_ids: Sequence[str]) -> Iterator[tuple[str, str]]:
    """``(segment_id, customer_id)`` of every current membership of these segments."""
    rows = session.execute(
        select(SegmentMembership.segment_id, SegmentMembership.customer_id).where(
            SegmentMembership.segment_id.in_(segment_ids), SegmentMembership.exited_at.is_(None)
        ),
        execution_options={"yield_per": 10 * CHUNK},
    )
    yield from ((sid, cid) for sid, cid in rows)


def live_customers(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(Customer.merged_into_id.is_(None))) or 0)


# --- engine inputs -----------------------------------------------------------------------------


def _events_query() -> AnySelect:
    query = resolved_events(
        None,
        Event.timestamp,
        Event.session_id,
        Event.kind,
        Product.category_path,
        Product.brand,
        Product.price_tier,
        Event.sku,
        Event.source,
        Event.medium,
        Event.campaign,
        Event.device_type,
        Event.country,
        Event.value,
        Event.query,
    ).outerjoin(Product, Product.sku == Event.sku)
    return query


def _live_owner() -> tuple[Any, Any]:
    live = aliased(Customer)
    return live, func.coalesce(live.merged_into_id, live.id)


def load(session: Session, con: BaseBackend) -> dict[str, int]:
    """Register ``people``, ``orders``, ``lines``, ``events`` and ``scores`` in ``con``."""
    connection = session.connection()
    consent = consent_in_force(session, ("email",))
    people_rows = session.execute(
        select(Customer.id, Customer.first_seen_at).where(Customer.merged_into_id.is_(None))
    ).all()
    people = pa.table(
        {
            "customer_id": [r[0] for r in people_rows],
            "first_seen_at": pa.array([r[1] for r in people_rows], UTC_TIMESTAMP),
            "email_consent": [consent.get((r[0], "email"), False) for r in people_rows],
        },
        schema=SCHEMAS["people"],
    )
    live, owner = _live_owner()
    amount = sql_cast(Order.total, Float) - func.coalesce(sql_cast(Order.refunded, Float), 0.0)
    orders = select(owner, Order.placed_at, Order.status, amount).join(
        live, live.id == Order.customer_id
    )
    live2, owner2 = _live_owner()
    lines = (
        select(owner2, Order.placed_at, Product.category_path, Product.brand, Product.price_tier)
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(live2, live2.id == Order.customer_id)
        .join(Product, Product.sku == OrderLine.sku)
        .where(Order.status.in_(PURCHASED), OrderLine.is_product)
    )
    # written-back traits: RFM/CLV scores and the current persona, for whoever has either
    scores = (
        select(
            Customer.id.label("customer_id"),
            CustomerScore.rfm_r,
            CustomerScore.rfm_f,
            CustomerScore.rfm_m,
            CustomerScore.rfm_segment,
            CustomerScore.clv,
            CustomerScore.p_alive,
            CustomerPersona.persona,
        )
        .select_from(Customer)
        .outerjoin(CustomerScore, CustomerScore.customer_id == Customer.id)
        .outerjoin(CustomerPersona, CustomerPersona.customer_id == Customer.id)
        .where(
            or_(CustomerScore.customer_id.is_not(None), CustomerPersona.customer_id.is_not(None))
        )
    )
    tables = {
        "people": people,
        "orders": read_arrow(connection, orders, SCHEMAS["orders"]),
        "lines": read_arrow(connection, lines, SCHEMAS["lines"]),
        "events": read_arrow(connection, _events_query(), SCHEMAS["events"]),
        "scores": read_arrow(connection, scores, SCHEMAS["scores"]),
    }
    counts = {}
    for name, table in tables.items():
        con.create_table(name, table, temp=True, overwrite=True)
        counts[name] = table.num_rows
    return counts


def customer_events(
    session: Session, user_ids: Sequence[str], anonymous_ids: Sequence[str], limit: int
) -> list[dict[str, Any]]:
    """The customer's newest ``limit`` shop events, newest first, with product attributes."""
    if not user_ids and not anonymous_ids:
        return []
    query = (
        select(
            Event.timestamp,
            Event.kind,
            Product.category_path.label("category"),
            Product.brand,
            Product.price_tier,
            Event.sku,
            Event.source,
            Event.medium,
            Event.campaign,
            Event.device_type,
            Event.country,
            Event.value,
            Event.query,
        )
        .outerjoin(Product, Product.sku == Event.sku)
        .where(event_owner(user_ids, anonymous_ids), Event.kind.not_in(SYSTEM_KINDS))
        .order_by(Event.timestamp.desc(), Event.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in session.execute(query)]


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
