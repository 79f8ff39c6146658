"""The behavioural features personas are clustered on: defined once, computed in Ibis.

:data:`FEATURES` is the one list: its names are the feature table's columns, the keys the
persona cards read, and the order of the matrix :mod:`shopkeeper.personas.clustering` sees.
Category shares are a family (``category.<top level>``) whose members depend on the shop's
catalog; :func:`feature_table` takes them as an argument and the fitted model stores them.

:func:`feature_table` is a portable Ibis expression over two tables the analytics repository
loads (orders and events, see :mod:`shopkeeper.personas.repository` for the extra columns), so
it runs on DuckDB and Spark alike. Shares are fractions in [0, 1] of the customer's own
activity (0 when the customer has none of it), counts are per customer over all history, and
time is measured against ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import ibis
import ibis.expr.types as ir
import numpy as np

Unit = Literal["share", "money", "count", "days", "ratio"]

CATEGORY_PREFIX = "category."
EVENING_HOURS = (18, 24)  # [from, to) in UTC
OFFICE_HOURS = (9, 17)
WEB_SESSION_KINDS = ("page_viewed", "screen_viewed")
VIEW_KINDS = ("product_viewed",)


@dataclass(frozen=True, slots=True)
class Feature:
    """One behavioural feature.

    Attributes:
        name: Column name in the feature table.
        unit: How the value reads in words (share as a percentage, money with a currency...).
        log: Cluster on ``log1p(value)``: counts and money are skewed, and a customer with 200
            orders should not be 100 times as far from the crowd as one with 2.
        high: Phrase for a cluster where the feature stands out high; ``{v}`` is the value.
        low: Phrase for a cluster where it stands out low.
        per_order: A measure of the customer's orders (AOV, coupon share...): undefined for a
            customer without orders, whose 0 is a placeholder, not a value.
    """

    name: str
    unit: Unit
    log: bool
    high: str
    low: str
    per_order: bool = False


FEATURES: tuple[Feature, ...] = (
    Feature("orders", "count", True, "{v} orders each", "{v} orders each"),
    Feature("revenue", "money", True, "spend {v} each", "spend only {v} each"),
    Feature("aov", "money", True, "AOV {v}", "AOV {v}", per_order=True),
    Feature("recency_days", "days", False, "last seen {v} ago", "active within {v}"),
    Feature("tenure_days", "days", False, "known for {v}", "new: known for {v}"),
    Feature("sessions", "count", True, "{v} visits each", "{v} visits each"),
    Feature("views_per_session", "ratio", True, "{v} products viewed per visit", "{v} views/visit"),
    Feature("conversion", "share", False, "{v} of visits end in an order", "{v} of visits buy"),
    Feature(
        "coupon_share",
        "share",
        False,
        "{v} of their orders use a coupon",
        "rarely coupons",
        per_order=True,
    ),
    Feature("premium_share", "share", False, "{v} premium products", "{v} premium products"),
    Feature("budget_share", "share", False, "{v} budget products", "{v} budget products"),
    Feature(
        "store_share",
        "share",
        False,
        "{v} of orders in stores",
        "online only",
        per_order=True,
    ),
    Feature(
        "app_share",
        "share",
        False,
        "{v} of orders in the app",
        "no app orders",
        per_order=True,
    ),
    Feature("mobile_share", "share", False, "mostly mobile ({v})", "{v} on mobile"),
    Feature("desktop_share", "share", False, "mostly desktop ({v})", "{v} on desktop"),
    Feature("evening_share", "share", False, "evenings ({v} of visits)", "rarely evenings"),
    Feature("office_share", "share", False, "office hours ({v} of visits)", "{v} office hours"),
    Feature("season_share", "share", False, "{v} of visits in Nov-Dec", "{v} of visits Nov-Dec"),
    Feature("peak_month_share", "share", False, "bursts: {v} of visits in one month", "steady"),
    Feature("email_share", "share", False, "{v} of visits from e-mail", "{v} from e-mail"),
    Feature("social_share", "share", False, "{v} of visits from social", "{v} from social"),
    Feature("paid_share", "share", False, "{v} of visits from paid search", "{v} paid search"),
    Feature("email_opens", "count", True, "opens {v} e-mails", "opens {v} e-mails"),
)
FEATURE_NAMES = tuple(f.name for f in FEATURES)


def defined_values(x: np.ndarray, features: Sequence[Feature]) -> np.ndarray:
    """``x`` with the per-order measures of customers without orders set to NaN (undefined:
    an AOV of 0 for someone who never ordered would pull a cluster's AOV down)."""
    names = [f.name for f in features]
    if "orders" not in names:
        return x
    out = np.array(x, dtype=np.float64)
    no_orders = out[:, names.index("orders")] <= 0
    for j, f in enumerate(features):
        if f.per_order:
            out[no_orders, j] = np.nan
    return out


def category_feature(top_level: str) -> Feature:
    """The share of a customer's product views and purchases in one top-level category."""
    return Feature(
        f"{CATEGORY_PREFIX}{top_level}",
        "share",
        False,
        f"{{v}} of their interest in {top_level}",
        f"little interest in {top_level}",
    )


def all_features(categories: tuple[str, ...]) -> tuple[Feature, ...]:
    """The fixed features followed by one share per top-level category."""
    return (*FEATURES, *(category_feature(c) for c in categories))


def _share(hits: ir.NumericValue, total: ir.NumericValue) -> ir.FloatingValue:
    return (hits.cast("float64") / total.nullif(0).cast("float64")).fill_null(0.0)


def top_categories(events: ir.Table, limit: int) -> ir.Table:
    """Top-level categories by product views, most viewed first (``category``, ``n``)."""
    viewed = events.filter(events.kind.isin(VIEW_KINDS) & events.category.notnull())
    top = viewed.category.split("/")[0].name("top")
    counts = viewed.group_by(top).aggregate(n=viewed.count())
    return counts.order_by([ibis.desc("n"), "top"]).limit(limit)


def feature_table(
    orders: ir.Table, events: ir.Table, now: datetime, categories: tuple[str, ...]
) -> ir.Table:
    """One row per customer with any event or counted order: ``customer_id`` + every feature.

    Args:
        orders: ``customer_id, timestamp, amount, channel, counted, coupon`` (bool: a coupon or
            a discount was used).
        events: ``customer_id, kind, timestamp, session_id, device, medium, category,
            price_tier`` (``category`` is the product's category path, if any).
        now: Reference instant for recency and tenure.
        categories: Top-level categories that get a share column each.
    """
    stamp = events.timestamp.type()
    at = ibis.literal(now, type=stamp)
    ev = events.filter(events.customer_id.notnull())
    od = orders.filter(orders.counted & orders.customer_id.notnull())

    per_order = od.group_by("customer_id").aggregate(
        orders=od.count(),
        revenue=od.amount.sum().cast("float64"),
        coupon_orders=od.coupon.cast("int64").sum(),
        store_orders=(od.channel == "store").cast("int64").sum(),
        app_orders=(od.channel == "app").cast("int64").sum(),
        last_order=od.timestamp.max(),
        first_order=od.timestamp.min(),
    )

    hour = ev.timestamp.hour()
    month = ev.timestamp.month()
    visit = ev.kind.isin(WEB_SESSION_KINDS)
    viewed = ev.kind.isin(VIEW_KINDS)
    product = ev.category.notnull() & ev.kind.isin(("product_viewed", "product_added"))
    tier_seen = product & ev.price_tier.notnull()
    measures: dict[str, ir.Value] = {
        "visits": visit.cast("int64").sum(),
        "sessions_seen": ev.session_id.nunique(where=visit),
        "views": viewed.cast("int64").sum(),
        "tiered": tier_seen.cast("int64").sum(),
        "premium": (tier_seen & (ev.price_tier == "premium")).cast("int64").sum(),
        "budget": (tier_seen & (ev.price_tier == "budget")).cast("int64").sum(),
        "mobile": (visit & (ev.device == "mobile")).cast("int64").sum(),
        "desktop": (visit & (ev.device == "desktop")).cast("int64").sum(),
        "evening": (visit & (hour >= EVENING_HOURS[0]) & (hour < EVENING_HOURS[1]))
        .cast("int64")
        .sum(),
        "office": (visit & (hour >= OFFICE_HOURS[0]) & (hour < OFFICE_HOURS[1]))
        .cast("int64")
        .sum(),
        "season": (visit & (month >= 11)).cast("int64").sum(),
        "email": (visit & (ev.medium == "email")).cast("int64").sum(),
        "social": (visit & (ev.medium == "social")).cast("int64").sum(),
        "paid": (visit & ev.medium.isin(("cpc", "ppc", "paid", "paidsearch"))).cast("int64").sum(),
        "email_opens": (ev.kind == "email_opened").cast("int64").sum(),
        "products": product.cast("int64").sum(),
        "first_seen": ev.timestamp.min(),
        "last_seen": ev.timestamp.max(),
    }
    top = ev.category.split("/")[0]
    for i, name in enumerate(categories):
        measures[f"cat_{i}"] = (product & (top == name)).cast("int64").sum()
    per_event = ev.group_by("customer_id").aggregate(**measures)

    months = ev.filter(visit).mutate(month=ev.timestamp.truncate("M"))
    per_month = months.group_by(["customer_id", "month"]).aggregate(n=months.count())
    peak = per_month.group_by("customer_id").aggregate(peak=per_month.n.max())
    per_event = per_event.left_join(peak, "customer_id").select(
        *[per_event[c] for c in per_event.columns], peak=peak.peak
    )

    ids = per_event.select("customer_id").union(per_order.select("customer_id"), distinct=True)
    t = ids
    for part in (per_event, per_order):
        joined = t.left_join(part, "customer_id")
        extra = [c for c in part.columns if c != "customer_id"]
        t = joined.select(*[joined[c] for c in t.columns], *[joined[c] for c in extra])
    n_orders = t.orders.fill_null(0)
    visits = t.visits.fill_null(0)
    sessions = ibis.ifelse(t.sessions_seen.fill_null(0) > 0, t.sessions_seen, visits)
    revenue = t.revenue.fill_null(0.0)
    first = ibis.least(t.first_seen, t.first_order)
    first = first.fill_null(t.first_seen).fill_null(t.first_order)
    last = ibis.greatest(t.last_seen, t.last_order)
    last = last.fill_null(t.last_seen).fill_null(t.last_order)
    columns: dict[str, ir.Value] = {
        "orders": n_orders.cast("float64"),
        "revenue": revenue.cast("float64"),
        "aov": _share(revenue, n_orders),
        "recency_days": at.delta(last, unit="day").cast("float64"),
        "tenure_days": at.delta(first, unit="day").cast("float64"),
        "sessions": sessions.fill_null(0).cast("float64"),
        "views_per_session": _share(t.views.fill_null(0), sessions.fill_null(0)),
        "conversion": ibis.least(_share(n_orders, sessions.fill_null(0)), 1.0),
        "coupon_share": _share(t.coupon_orders.fill_null(0), n_orders),
        "premium_share": _share(t.premium.fill_null(0), t.tiered.fill_null(0)),
        "budget_share": _share(t.budget.fill_null(0), t.tiered.fill_null(0)),
        "store_share": _share(t.store_orders.fill_null(0), n_orders),
        "app_share": _share(t.app_orders.fill_null(0), n_orders),
        "mobile_share": _share(t.mobile.fill_null(0), visits),
        "desktop_share": _share(t.desktop.fill_null(0), visits),
        "evening_share": _share(t.evening.fill_null(0), visits),
        "office_share": _share(t.office.fill_null(0), visits),
        "season_share": _share(t.season.fill_null(0), visits),
        "peak_month_share": _share(t.peak.fill_null(0), visits),
        "email_share": _share(t.email.fill_null(0), visits),
        "social_share": _share(t.social.fill_null(0), visits),
        "paid_share": _share(t.paid.fill_null(0), visits),
        "email_opens": t.email_opens.fill_null(0).cast("float64"),
    }
    for i, name in enumerate(categories):
        columns[f"{CATEGORY_PREFIX}{name}"] = _share(t[f"cat_{i}"].fill_null(0), t.products)
    return t.select("customer_id", **columns)
