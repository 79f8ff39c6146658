"""Every query of the scorecard: aggregates in SQLAlchemy Core, portable to SQLite and PostgreSQL.

Nothing here loops over rows in Python. Row rules ("orders with no customer") of one table are
counted together in a single ``SUM(CASE …)`` scan; duplicates are ``GROUP BY … HAVING``;
lags are a histogram computed in SQL; examples are ``ORDER BY id LIMIT 5`` queries run only
for checks that found something. The two date functions that differ between the backends
(seconds between two timestamps, the UTC day of a timestamp) are compiled per dialect below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    FromClause,
    Select,
    SQLColumnExpression,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from shopkeeper.models import (
    AuditEntry,
    Consent,
    Customer,
    Event,
    Identity,
    Order,
    OrderLine,
    Product,
)
from shopkeeper.quality.checks import Count

EXAMPLES = 5


class seconds_between(FunctionElement[float]):
    """``later − earlier`` in seconds."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(seconds_between)
def _seconds_default(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


class utc_day(FunctionElement[str]):
    """The UTC calendar day of a timestamp as ``YYYY-MM-DD`` text."""

    type = String()
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day)
def _day_default(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@dataclass(frozen=True)
class RowRule:
    """Rows of a table for which ``predicate`` holds, out of those for which ``scope`` holds."""

    check: str
    predicate: ColumnElement[bool]
    scope: ColumnElement[bool] | None = None


@dataclass(frozen=True)
class Source:
    """What a table's row rules scan: the FROM clause, the rows it covers, how a row is named."""

    from_: FromClause
    example_id: SQLColumnExpression[Any]
    where: ColumnElement[bool] | None = None
    #: Examples are the first rows in this order (an indexed key keeps ``LIMIT 5`` cheap).
    order_by: SQLColumnExpression[Any] | None = None


def email_invalid(column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """Fails the portable LIKE version of ``local@domain.tld``: one ``@``, no spaces, a dot
    after the ``@`` with something on both sides, no doubled or trailing dot."""
    return not_(
        and_(
            column.like("%_@_%._%"),
            not_(column.like("%@%@%")),
            not_(column.like("% %")),
            not_(column.like("%..%")),
            not_(column.like("%.")),
            not_(column.like("%@.%")),
        )
    )


def currency_unknown(
    column: SQLColumnExpression[Any], currencies: frozenset[str]
) -> ColumnElement[bool]:
    return and_(column.is_not(None), func.upper(column).not_in(sorted(currencies)))


def count_rules(session: Session, source: Source, rules: Sequence[RowRule]) -> dict[str, Count]:
    """Every rule of one table in one scan, then examples for the rules that found rows."""
    columns: list[ColumnElement[Any]] = []
    for rule in rules:
        scope = rule.scope if rule.scope is not None else literal(True)
        columns.append(func.coalesce(func.sum(case((scope, 1), else_=0)), 0))
        columns.append(func.coalesce(func.sum(case((and_(scope, rule.predicate), 1), else_=0)), 0))
    query = select(*columns).select_from(source.from_)
    if source.where is not None:
        query = query.where(source.where)
    row = session.execute(query).one()
    counts: dict[str, Count] = {}
    for i, rule in enumerate(rules):
        total, affected = int(row[2 * i]), int(row[2 * i + 1])
        examples: tuple[str, ...] = ()
        if affected:
            condition = rule.predicate if rule.scope is None else and_(rule.scope, rule.predicate)
            if source.where is not None:
                condition = and_(source.where, condition)
            examples = _examples(
                session,
                select(source.example_id).select_from(source.from_).where(condition),
                source.example_id if source.order_by is None else source.order_by,
            )
        counts[rule.check] = Count(affected, total, examples)
    return counts


def _examples(
    session: Session, query: Select[Any], order: SQLColumnExpression[Any]
) -> tuple[str, ...]:
    return tuple(str(v) for v in session.scalars(query.order_by(order).limit(EXAMPLES)))


def duplicates(
    session: Session,
    keys: Sequence[SQLColumnExpression[Any]],
    example_id: SQLColumnExpression[Any],
    from_: FromClause,
    where: ColumnElement[bool] | None = None,
    order_by: SQLColumnExpression[Any] | None = None,
) -> Count:
    """Surplus rows (a group of ``n`` equal keys counts ``n − 1``) out of all rows in scope."""
    condition = where if where is not None else literal(True)
    labelled: list[Any] = [key.label(f"k{i}") for i, key in enumerate(keys)]
    groups = (
        select(*labelled, func.count().label("n"))
        .select_from(from_)
        .where(condition)
        .group_by(*keys)
        .having(func.count() > 1)
        .subquery()
    )
    surplus = session.scalar(select(func.coalesce(func.sum(groups.c.n - 1), 0))) or 0
    total = session.scalar(select(func.count()).select_from(from_).where(condition)) or 0
    examples: tuple[str, ...] = ()
    if surplus:
        match = and_(*(key.is_not_distinct_from(groups.c[f"k{i}"]) for i, key in enumerate(keys)))
        query = select(example_id).select_from(from_).join(groups, match).where(condition)
        examples = _examples(session, query, example_id if order_by is None else order_by)
    return Count(int(surplus), int(total), examples)


def customer_rules(now_plus_day: datetime, floor: datetime) -> tuple[Source, list[RowRule]]:
    has_consent = exists().where(Consent.customer_id == Customer.id)
    source = Source(Customer.__table__, Customer.id, Customer.merged_into_id.is_(None))
    return source, [
        RowRule("customers.email_missing", Customer.email.is_(None)),
        RowRule("customers.consent_missing", not_(has_consent)),
        RowRule(
            "customers.email_invalid", email_invalid(Customer.email), Customer.email.is_not(None)
        ),
        RowRule(
            "customers.future_timestamp",
            or_(Customer.first_seen_at > now_plus_day, Customer.last_seen_at > now_plus_day),
        ),
        RowRule("customers.ancient_timestamp", Customer.first_seen_at < floor),
    ]


def identity_rules(now_plus_day: datetime, floor: datetime) -> tuple[Source, list[RowRule]]:
    source = Source(Identity.__table__.join(Customer.__table__), Identity.id)
    return source, [
        RowRule(
            "identities.email_invalid", email_invalid(Identity.value), Identity.kind == "email"
        ),
        RowRule("identities.future_timestamp", Identity.created_at > now_plus_day),
        RowRule("identities.ancient_timestamp", Identity.created_at < floor),
        RowRule("identities.on_merged_customer", Customer.merged_into_id.is_not(None)),
    ]


def product_rules(currencies: frozenset[str]) -> tuple[Source, list[RowRule]]:
    real = Product.is_product.is_(True)
    return Source(Product.__table__, Product.sku), [
        RowRule("products.title_missing", _blank(Product.title), real),
        RowRule("products.category_missing", _blank(Product.category_path), real),
        RowRule("products.brand_missing", _blank(Product.brand), real),
        RowRule("products.price_missing", Product.price.is_(None), real),
        RowRule(
            "products.price_not_positive",
            Product.price <= 0,
            and_(real, Product.price.is_not(None)),
        ),
        RowRule("products.currency_unknown", currency_unknown(Product.currency, currencies)),
        RowRule("products.non_product", Product.is_product.is_(False)),
    ]


def order_rules(
    now_plus_day: datetime, floor: datetime, currencies: frozenset[str], undone: Sequence[str]
) -> tuple[Source, list[RowRule]]:
    return Source(Order.__table__, Order.id), [
        RowRule("orders.customer_missing", Order.customer_id.is_(None)),
        RowRule("orders.currency_missing", Order.currency.is_(None)),
        RowRule("orders.currency_unknown", currency_unknown(Order.currency, currencies)),
        RowRule("orders.negative_total", and_(Order.total < 0, Order.status.not_in(undone))),
        RowRule("orders.future_timestamp", Order.placed_at > now_plus_day),
        RowRule("orders.ancient_timestamp", Order.placed_at < floor),
        RowRule("orders.cancelled", Order.status.in_(undone)),
    ]


def line_example() -> ColumnElement[str]:
    """An order line as people look it up: ``order id#position sku``."""
    return OrderLine.order_id + "#" + cast(OrderLine.position, String) + " " + OrderLine.sku


def line_rules(undone: Sequence[str]) -> tuple[Source, list[RowRule]]:
    from_ = OrderLine.__table__.join(Order.__table__).outerjoin(
        Product.__table__, Product.sku == OrderLine.sku
    )
    return Source(from_, line_example(), order_by=OrderLine.id), [
        RowRule("order_lines.name_missing", _blank(OrderLine.name)),
        RowRule("order_lines.negative_price", OrderLine.unit_price < 0),
        RowRule(
            "order_lines.zero_price", OrderLine.unit_price == 0, OrderLine.is_product.is_(True)
        ),
        RowRule(
            "order_lines.quantity_not_positive",
            and_(OrderLine.quantity <= 0, Order.status.not_in(undone)),
        ),
        RowRule("order_lines.non_product", OrderLine.is_product.is_(False)),
        RowRule("order_lines.unknown_sku", Product.sku.is_(None)),
    ]


def event_rules(
    now_plus_day: datetime, floor: datetime, currencies: frozenset[str]
) -> tuple[Source, list[RowRule]]:
    return Source(Event.__table__, Event.id), [
        RowRule(
            "events.identifier_missing", and_(Event.user_id.is_(None), Event.anonymous_id.is_(None))
        ),
        RowRule("events.device_missing", _blank(Event.device_type)),
        RowRule("events.source_missing", _blank(Event.source)),
        RowRule("events.currency_unknown", currency_unknown(Event.currency, currencies)),
        RowRule("events.future_timestamp", Event.timestamp > now_plus_day),
        RowRule("events.ancient_timestamp", Event.timestamp < floor),
    ]


def consent_rules(
    now_plus_day: datetime, floor: datetime, purposes: Sequence[str]
) -> tuple[Source, list[RowRule]]:
    source = Source(Consent.__table__.join(Customer.__table__), Consent.id)
    return source, [
        RowRule("consents.purpose_unknown", Consent.purpose.not_in(purposes)),
        RowRule("consents.future_timestamp", Consent.recorded_at > now_plus_day),
        RowRule("consents.ancient_timestamp", Consent.recorded_at < floor),
        RowRule("consents.on_merged_customer", Customer.merged_into_id.is_not(None)),
    ]


def _blank(column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    return or_(column.is_(None), func.trim(column) == "")


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Order.status, func.count()).group_by(Order.status))
    return {status: int(n) for status, n in rows}


def total_mismatch(session: Session, tolerance: float = 0.01) -> Count:
    """Orders whose total matches neither the sum of their lines nor that sum plus shipping
    and tax minus discount (the two ways shops report a total)."""
    sums = (
        select(
            OrderLine.order_id.label("order_id"),
            func.sum(OrderLine.quantity * OrderLine.unit_price).label("subtotal"),
        )
        .group_by(OrderLine.order_id)
        .subquery()
    )
    with_extras = (
        sums.c.subtotal
        + func.coalesce(Order.shipping, 0)
        + func.coalesce(Order.tax, 0)
        - func.coalesce(Order.discount, 0)
    )
    bad = and_(
        func.abs(Order.total - sums.c.subtotal) > tolerance,
        func.abs(Order.total - with_extras) > tolerance,
    )
    from_ = Order.__table__.join(sums, sums.c.order_id == Order.id)
    total, affected = session.execute(
        select(func.count(), func.coalesce(func.sum(case((bad, 1), else_=0)), 0)).select_from(from_)
    ).one()
    examples: tuple[str, ...] = ()
    if affected:
        examples = _examples(session, select(Order.id).select_from(from_).where(bad), Order.id)
    return Count(int(affected), int(total), examples)


def carts_without_view(session: Session) -> Count:
    """``product_added`` events with no earlier-or-same-time ``product_viewed`` of that sku by
    the same visitor (matched on anonymousId or on userId: two NOT EXISTS, so each can use
    its index)."""
    view = aliased(Event)

    def viewed(column: str) -> ColumnElement[bool]:
        mine, theirs = getattr(Event, column), getattr(view, column)
        return exists().where(
            theirs == mine,
            view.kind == "product_viewed",
            view.sku == Event.sku,
            view.timestamp <= Event.timestamp,
        )

    scope = and_(Event.kind == "product_added", Event.sku.is_not(None))
    bad = and_(
        or_(Event.anonymous_id.is_(None), not_(viewed("anonymous_id"))),
        or_(Event.user_id.is_(None), not_(viewed("user_id"))),
    )
    return _scoped_count(session, scope, bad)


def refunds_without_order(session: Session) -> Count:
    scope = Event.kind.in_(("order_refunded", "order_cancelled"))
    stored = exists().where(Order.id == Event.order_id)
    return _scoped_count(session, scope, or_(Event.order_id.is_(None), not_(stored)))


def events_unknown_sku(session: Session, kinds: Sequence[str]) -> Count:
    scope = and_(Event.kind.in_(kinds), Event.sku.is_not(None))
    return _scoped_count(session, scope, not_(exists().where(Product.sku == Event.sku)))


def _scoped_count(session: Session, scope: ColumnElement[bool], bad: ColumnElement[bool]) -> Count:
    total, affected = session.execute(
        select(func.count(), func.coalesce(func.sum(case((bad, 1), else_=0)), 0)).where(scope)
    ).one()
    examples: tuple[str, ...] = ()
    if affected:
        examples = _examples(session, select(Event.id).where(scope, bad), Event.id)
    return Count(int(affected), int(total), examples)


def lag_histogram(session: Session, edges: Sequence[float]) -> list[int]:
    """How many events arrived within each edge (seconds) of their timestamp; the last count
    is beyond the last edge. Negative lags (a sender's clock ahead) count in the first bucket."""
    lag = seconds_between(Event.received_at, Event.timestamp)
    bucket = case(*((lag <= edge, i) for i, edge in enumerate(edges)), else_=len(edges))
    counts = [0] * (len(edges) + 1)
    for index, n in session.execute(select(bucket, func.count()).group_by(bucket)):
        counts[int(index)] = int(n)
    return counts


def last_seen(
    session: Session, *keys: SQLColumnExpression[Any]
) -> list[tuple[tuple[Any, ...], datetime]]:
    """``(key values, latest event timestamp)`` per distinct key."""
    query = select(*keys, func.max(Event.timestamp)).group_by(*keys)
    return [(tuple(row[:-1]), row[-1]) for row in session.execute(query)]


def newest_event(session: Session, before: datetime) -> datetime | None:
    """The latest event timestamp not after ``before`` (future-dated events are ignored)."""
    return session.scalar(select(func.max(Event.timestamp)).where(Event.timestamp <= before))


def daily_volume(session: Session, since: datetime) -> list[tuple[str, str, int]]:
    """``(source, day, events)`` from ``since`` on; a missing source reads ``(none)``."""
    source = func.coalesce(Event.source, "(none)")
    day = utc_day(Event.timestamp)
    query = select(source, day, func.count()).where(Event.timestamp >= since).group_by(source, day)
    return [(str(s), str(d), int(n)) for s, d, n in session.execute(query)]


def import_runs(session: Session) -> list[dict[str, Any]]:
    """Details of the ``data.import`` audit entries (one per import run), oldest first."""
    query = (
        select(AuditEntry.detail).where(AuditEntry.action == "data.import").order_by(AuditEntry.id)
    )
    return [dict(detail or {}) for detail in session.scalars(query)]
