"""Shop KPIs by period and dimension as portable Ibis expressions (DuckDB and Spark alike).

Inputs are the ``orders`` and ``events`` tables of :mod:`shopkeeper.analytics.repository`
(optionally ``scores`` for the segment breakdown). Nothing here touches the store or the web.

Definitions (a *leading* indicator moves before revenue does and can be acted on; a *lagging*
one records the outcome):

=====================  =======  ==============================================================
KPI                    Tag      Definition
=====================  =======  ==============================================================
sessions               leading  distinct sessions with an on-site event (``session_id``; events
                                without one count one session per visitor and day). E-mail
                                events come from the e-mail service, not a visit: not counted
conversion_rate        leading  orders / sessions
email_ctr              leading  ``email_link_clicked`` events / ``email_opened`` events
revenue                lagging  sum of counted orders' totals net of refunds
orders                 lagging  counted orders (completed or partially refunded)
aov                    lagging  revenue / orders (average order value)
revenue_per_visitor    lagging  revenue / distinct visitors with an on-site event
items_per_order        lagging  product items (no postage or fees) / orders
repeat_purchase_rate   lagging  share of the period's buyers who had ordered before the order
return_rate            lagging  refunded or partially refunded orders / all non-cancelled ones
clv                    lagging  12-month lifetime value; per customer, from ``clv()`` (not per
                                period)
=====================  =======  ==============================================================

Rates whose denominator is zero are null, not zero: "no sessions" is not "no conversion".
Each of :data:`CHANGED` also gets ``<kpi>_change``: the relative change from the previous
period present for the same dimension value (null for the first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import ibis
import ibis.expr.types as ir

from shopkeeper.errors import Invalid
from shopkeeper.events.kinds import SYSTEM_KINDS

Grain = Literal["day", "week", "month"]
Dimension = Literal["channel", "device", "source", "country", "segment"]
GRAINS: dict[str, str] = {"day": "D", "week": "W", "month": "M"}
DIMENSIONS = ("channel", "device", "source", "country", "segment")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Kpi:
    name: str
    tag: Literal["leading", "lagging"]


KPIS = (
    Kpi("sessions", "leading"),
    Kpi("conversion_rate", "leading"),
    Kpi("email_ctr", "leading"),
    Kpi("revenue", "lagging"),
    Kpi("orders", "lagging"),
    Kpi("aov", "lagging"),
    Kpi("revenue_per_visitor", "lagging"),
    Kpi("items_per_order", "lagging"),
    Kpi("repeat_purchase_rate", "lagging"),
    Kpi("return_rate", "lagging"),
    Kpi("clv", "lagging"),
)
"""Every KPI with its tag; the table in the module docstring defines them."""

EMAIL_KINDS = (
    "email_delivered",
    "email_opened",
    "email_link_clicked",
    "email_bounced",
    "email_marked_as_spam",
    "email_unsubscribed",
)
"""Kinds reported by the e-mail service; they are not visits."""

CHANGED = ("sessions", "orders", "revenue", "conversion_rate", "aov")


def session_key(events: ir.Table) -> ir.StringValue:
    """The session an event belongs to: its ``session_id``, else one per visitor and day."""
    return events.session_id.fill_null(
        events.visitor_id.fill_null("") + ":" + events.timestamp.cast("date").cast("string")
    )


def _period(timestamp: ir.TimestampValue, grain: str) -> ir.DateValue:
    if grain not in GRAINS:
        raise Invalid("grain must be day, week or month", detail={"field": "grain"})
    return timestamp.truncate(GRAINS[grain]).cast("date")


def _bounded(table: ir.Table, start: datetime | None, end: datetime | None) -> ir.Table:
    if start is not None:
        table = table.filter(table.timestamp >= start)
    if end is not None:
        table = table.filter(table.timestamp < end)
    return table


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    return ibis.ifelse(denominator > 0, numerator.cast("float64") / denominator, ibis.null())


def _with_dimension(
    table: ir.Table, by: str | None, scores: ir.Table | None, column: ir.Value | None = None
) -> ir.Table:
    """Add ``dimension`` (a constant when ``by`` is None; ``unknown`` where missing)."""
    if by is None:
        return table.mutate(dimension=ibis.literal("all"))
    if by not in DIMENSIONS:
        raise Invalid(f"by must be one of {', '.join(DIMENSIONS)}", detail={"field": "by"})
    if by == "segment":
        if scores is None:
            raise Invalid("the segment breakdown needs stored scores", detail={"field": "by"})
        joined = table.left_join(scores, table.customer_id == scores.customer_id)
        return joined.mutate(dimension=joined.segment.fill_null(UNKNOWN)).drop(
            "segment", "customer_id_right"
        )
    value = column if column is not None else table[by]
    return table.mutate(dimension=value.fill_null(UNKNOWN))


def order_dimensions(orders: ir.Table, events: ir.Table) -> ir.Table:
    """Orders with device, source and country from their ``order_completed`` event."""
    placed = events.filter(events.kind == "order_completed").filter(events.order_id.notnull())
    per_order = placed.group_by(placed.order_id).aggregate(
        device=placed.device.max(), source=placed.source.max(), country=placed.country.max()
    )
    joined = orders.left_join(per_order, orders.order_id == per_order.order_id)
    return joined.drop("order_id_right")


def kpi_table(
    orders: ir.Table,
    events: ir.Table,
    *,
    grain: str = "day",
    by: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    scores: ir.Table | None = None,
) -> ir.Table:
    """One row per (period, dimension) with every per-period KPI and its change.

    Returns:
        ``period`` (date), ``dimension`` (string, ``all`` when ``by`` is None), the counts
        (sessions, visitors, orders, revenue, items, buyers, repeat_buyers, email_opens,
        email_clicks, returns, all_orders), the rates of the module table, and
        ``<kpi>_change`` for :data:`CHANGED`. Unordered.
    """
    first_order = (
        orders.filter(orders.counted & orders.customer_id.notnull())
        .group_by("customer_id")
        .aggregate(first_at=lambda t: t.timestamp.min())
    )
    flagged = orders.left_join(first_order, orders.customer_id == first_order.customer_id)
    flagged = flagged.mutate(
        repeat=flagged.timestamp > flagged.first_at.fill_null(flagged.timestamp)
    )
    flagged = flagged.drop("customer_id_right", "first_at")
    flagged = _bounded(order_dimensions(flagged, events), start, end)
    flagged = _with_dimension(flagged.mutate(period=_period(flagged.timestamp, grain)), by, scores)
    counted = flagged.counted
    order_stats = flagged.group_by(["period", "dimension"]).aggregate(
        orders=counted.sum().cast("int64"),
        revenue=ibis.ifelse(counted, flagged.amount, 0.0).sum(),
        items=ibis.ifelse(counted, flagged.items, 0).sum().cast("int64"),
        buyers=flagged.customer_id.nunique(where=counted),
        repeat_buyers=flagged.customer_id.nunique(where=counted & flagged.repeat),
        returns=(flagged.status != "completed").sum().cast("int64"),
        all_orders=flagged.count(),
    )

    ev = _bounded(events, start, end)
    ev = ev.mutate(period=_period(ev.timestamp, grain))
    ev = _with_dimension(ev, by, scores)
    sessions = session_key(ev)
    on_site = ~ev.kind.isin((*EMAIL_KINDS, *sorted(SYSTEM_KINDS)))  # trigger firings: no visit
    event_stats = ev.group_by(["period", "dimension"]).aggregate(
        sessions=sessions.nunique(where=on_site),
        visitors=ev.customer_id.fill_null(ev.visitor_id).nunique(where=on_site),
        email_opens=(ev.kind == "email_opened").sum().cast("int64"),
        email_clicks=(ev.kind == "email_link_clicked").sum().cast("int64"),
    )

    keys = order_stats.select("period", "dimension").union(
        event_stats.select("period", "dimension"), distinct=True
    )
    joined = keys.left_join(
        order_stats,
        [keys.period == order_stats.period, keys.dimension == order_stats.dimension],
    ).drop("period_right", "dimension_right")
    joined = joined.left_join(
        event_stats,
        [joined.period == event_stats.period, joined.dimension == event_stats.dimension],
    ).drop("period_right", "dimension_right")
    zero_filled = {
        name: joined[name].fill_null(0)
        for name in (
            "orders",
            "revenue",
            "items",
            "buyers",
            "repeat_buyers",
            "returns",
            "all_orders",
            "sessions",
            "visitors",
            "email_opens",
            "email_clicks",
        )
    }
    t = joined.mutate(**zero_filled)
    t = t.mutate(
        conversion_rate=_ratio(t.orders, t.sessions),
        email_ctr=_ratio(t.email_clicks, t.email_opens),
        aov=_ratio(t.revenue, t.orders),
        revenue_per_visitor=_ratio(t.revenue, t.visitors),
        items_per_order=_ratio(t.items, t.orders),
        repeat_purchase_rate=_ratio(t.repeat_buyers, t.buyers),
        return_rate=_ratio(t.returns, t.all_orders),
    )
    window = ibis.window(group_by=t.dimension, order_by=t.period)
    changes = {}
    for name in CHANGED:
        previous = t[name].lag().over(window)
        changes[f"{name}_change"] = _ratio(t[name] - previous, previous)
    return t.mutate(**changes)
