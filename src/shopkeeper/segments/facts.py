"""Profile facts: the values of the profile fields, for every customer (batch) or one (real time).

The rule evaluators read profile fields by name (:mod:`~shopkeeper.segments.fields`); this
module computes them with the meaning the customer 360 profile gives them, twice:

* :func:`profile_table` — every customer as one Ibis table over the store's rows moved to the
  analytics engine (see :mod:`shopkeeper.segments.repository`), for batch evaluation;
* :func:`profile_facts` — one customer from their 360 :class:`~shopkeeper.customers.schemas.
  Profile`, RFM/CLV scores and recent events, for ``GET /v1/customers/{id}/segments``.

Definitions (both sides): ``orders``/``revenue``/``aov`` count completed and partially refunded
orders net of refunds; ``days_since_last_order`` is the latest order of any status (the
profile's ``last_order``); ``sessions`` follow :func:`~shopkeeper.customers.sessions.
split_sessions` (a ``session_id``, else 30 minutes of inactivity) over visit events;
``first_visit`` is "exactly one session so far"; ``tenure`` is :func:`~shopkeeper.customers.
tenure.tenure_of`; ``source``/``medium``/``campaign`` come from the latest event that carries a
source, ``device_type`` and ``country`` from the latest event carrying each; ``affinity.*`` are
the profile's recency-weighted top-5 shares (a value outside the top 5 is missing);
``email_consent`` is e-mail consent in force.

Known differences: the real-time profile reads a customer's newest 2,000 events (``EVENT_WINDOW``)
and follows merges transitively, the batch side reads every event and one level of
``merged_into_id`` (what merges produce). Ties between events with the same timestamp may pick a
different ``source`` or ``device_type``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir

from shopkeeper.customers.affinities import AffinityConfig
from shopkeeper.customers.profile import ACTIONS, COMPLETED, NOT_VISITS
from shopkeeper.customers.schemas import Profile
from shopkeeper.customers.sessions import SESSION_GAP
from shopkeeper.customers.tenure import TenureRules
from shopkeeper.segments.realtime import EventFacts, FieldValue, ProfileFacts

#: ``affinity.<dimension>.<value>`` -> the profile's affinity list it reads.
AFFINITY_DIMENSIONS = {
    "category": "categories",
    "category_path": "category_paths",
    "brand": "brands",
    "price_tier": "price_tiers",
}
DAY_SECONDS = 86_400.0


@dataclass(frozen=True, slots=True)
class Scores:
    """A customer's stored RFM scores and lifetime value (``customer_scores``)."""

    rfm_r: int | None = None
    rfm_f: int | None = None
    rfm_m: int | None = None
    rfm_segment: str | None = None
    clv: float | None = None
    p_alive: float | None = None
    #: The customer's persona under the current persona model (``customer_personas``).
    persona: str | None = None


def affinity_fields(names: Iterable[str]) -> list[tuple[str, str, str]]:
    """``(field name, dimension, value)`` for each ``affinity.<dimension>.<value>`` name."""
    found = []
    for name in names:
        prefix, _, rest = name.partition(".")
        dimension, _, value = rest.partition(".")
        if prefix == "affinity" and dimension in AFFINITY_DIMENSIONS and value:
            found.append((name, dimension, value))
    return found


# --- real time ---------------------------------------------------------------------------------


def profile_facts(
    profile: Profile, scores: Scores | None, events: Sequence[EventFacts], now: datetime
) -> ProfileFacts:
    """The profile fields of one customer (``events`` newest first, shop events only)."""
    activity = profile.activity
    values: dict[str, FieldValue] = {
        "tenure": profile.tenure,
        "sessions": activity.sessions,
        "first_visit": activity.sessions == 1,
        "orders": activity.orders,
        "revenue": float(activity.revenue),
        "aov": float(activity.average_order_value)
        if activity.average_order_value is not None
        else None,
        "days_since_first_seen": _days(now, activity.first_seen),
        "days_since_last_order": _days(now, activity.last_order.placed_at)
        if activity.last_order
        else None,
        "email_consent": profile.consent.get("email") is not None
        and profile.consent["email"].granted is True,
    }
    if scores is not None:
        values |= {
            "rfm_r": scores.rfm_r,
            "rfm_f": scores.rfm_f,
            "rfm_m": scores.rfm_m,
            "rfm_segment": scores.rfm_segment,
            "clv": scores.clv,
            "p_alive": scores.p_alive,
            "persona": scores.persona,
        }
    attributed = next((e for e in events if e.source is not None), None)
    if attributed is not None:
        values |= {
            "source": attributed.source,
            "medium": attributed.medium,
            "campaign": attributed.campaign,
        }
    values["device_type"] = next((e.device_type for e in events if e.device_type), None)
    values["country"] = next((e.country for e in events if e.country), None)
    for dimension, attribute in AFFINITY_DIMENSIONS.items():
        for share in getattr(profile.affinities, attribute):
            values[f"affinity.{dimension}.{share.value}"] = share.share
    return ProfileFacts({k: v for k, v in values.items() if v is not None})


def _days(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else (now - then).total_seconds() / DAY_SECONDS


# --- batch -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """The engine tables :func:`profile_table` reads (see ``segments.repository.SCHEMAS``)."""

    people: ir.Table  # customer_id, first_seen_at, email_consent
    orders: ir.Table  # customer_id, timestamp, status, amount
    lines: ir.Table  # customer_id, timestamp, category, brand, price_tier (purchased lines)
    events: ir.Table  # customer_id, timestamp, kind, session_id, <event fields>
    scores: ir.Table  # customer_id, rfm_r, rfm_f, rfm_m, rfm_segment, clv, p_alive, persona


def profile_table(
    t: Inputs,
    now: datetime,
    fields: Iterable[str] = (),
    *,
    tenure: TenureRules = TenureRules(),
    affinity: AffinityConfig = AffinityConfig(),
) -> ir.Table:
    """Every live customer with the profile fields as columns (``affinity.*`` only for the
    names in ``fields``: the family is open-ended, so only what rules use is computed)."""
    stamp = t.events.timestamp.type()
    at = ibis.literal(now, type=stamp)
    window_start = ibis.literal(now - timedelta(days=tenure.regular_window_days), type=stamp)

    orders = t.orders
    completed = orders.status.isin(list(COMPLETED))
    per_order = orders.group_by("customer_id").aggregate(
        orders=orders.count(where=completed),
        revenue=orders.amount.sum(where=completed),
        recent_orders=orders.count(where=completed & (orders.timestamp >= window_start)),
        first_order_at=orders.timestamp.min(),
        last_order_at=orders.timestamp.max(),
    )
    sessions = _sessions(t.events, window_start)
    latest = _latest(t.events)
    first_event = t.events.group_by("customer_id").aggregate(
        first_event_at=t.events.timestamp.min()
    )

    table = t.people
    for part in (per_order, sessions, latest, first_event, t.scores):
        table = _left(table, part)
    if any(True for _ in affinity_fields(fields)):
        table = _left(table, _affinities(t, now, list(fields), affinity))
    # completed orders placed before the latest session began (all of them without a session)
    # (from ``sessions``, not ``table``: a second reference to ``table`` computes it twice)
    before = _left(orders.filter(completed), sessions.select("customer_id", "current_start"))
    before = before.filter(
        before.current_start.isnull() | (before.timestamp < before.current_start)
    )
    table = _left(table, before.group_by("customer_id").aggregate(orders_before=before.count()))

    n_orders = table.orders.fill_null(0)
    n_sessions = table.sessions.fill_null(0)
    revenue = table.revenue.fill_null(0.0)
    first_seen = ibis.least(table.first_seen_at, table.first_order_at, table.first_event_at)
    regular = (table.recent_orders.fill_null(0) >= tenure.regular_orders) | (
        table.recent_sessions.fill_null(0) >= tenure.regular_sessions
    )
    new_since = ibis.literal(now - timedelta(days=tenure.newcomer_days), type=stamp)
    newcomer = (
        (first_seen.isnull() | (first_seen > new_since))
        & (n_sessions <= tenure.newcomer_max_sessions)
        & (table.orders_before.fill_null(0) == 0)
    )
    columns: dict[str, ir.Value] = {
        "tenure": ibis.cases((regular, "regular"), (newcomer, "newcomer"), else_="returning"),
        "sessions": n_sessions,
        "first_visit": n_sessions == 1,
        "orders": n_orders,
        "revenue": revenue.round(2),
        "aov": ibis.ifelse(n_orders > 0, revenue / n_orders.cast("float64"), ibis.null()).round(2),
        "days_since_first_seen": _age_days(at, first_seen),
        "days_since_last_order": _age_days(at, table.last_order_at),
        "email_consent": table.email_consent.fill_null(False),
    }
    keep = [
        "rfm_r", "rfm_f", "rfm_m", "rfm_segment", "clv", "p_alive", "persona",
        "source", "medium", "campaign", "device_type", "country",
    ]  # fmt: skip
    keep += [name for name, _, _ in affinity_fields(fields)]
    return table.select("customer_id", **columns, **{name: table[name] for name in keep})


def _left(table: ir.Table, part: ir.Table) -> ir.Table:
    part = part.view()  # parts may derive from the same table as ``table``: a self-join
    joined = table.left_join(part, "customer_id")
    names = [c for c in part.columns if c != "customer_id"]
    return joined.select(*[joined[c] for c in table.columns], *[joined[c] for c in names])


def _age_days(now: ir.Value, then: ir.Value) -> ir.Value:
    seconds = now.epoch_seconds().cast("float64") - then.epoch_seconds().cast("float64")
    return seconds / DAY_SECONDS


def _sessions(events: ir.Table, window_start: ir.Value) -> ir.Table:
    """Sessions per customer as :func:`split_sessions` cuts them, and the latest one's start."""
    visits = events.filter(~events.kind.isin(list(NOT_VISITS)) & events.customer_id.notnull())
    has_id = visits.session_id.notnull() & (visits.session_id != "")
    tagged = visits.filter(has_id)
    by_id = tagged.group_by(["customer_id", "session_id"]).aggregate(start=tagged.timestamp.min())
    loose = visits.filter(~has_id)
    window = ibis.window(group_by=loose.customer_id, order_by=loose.timestamp)
    loose = loose.mutate(previous=loose.timestamp.lag().over(window))
    gap = ibis.interval(seconds=int(SESSION_GAP.total_seconds()))
    opened = loose.filter(loose.previous.isnull() | (loose.timestamp > loose.previous + gap))
    starts = by_id.select("customer_id", "start").union(
        opened.select("customer_id", start=opened.timestamp)
    )
    return starts.group_by("customer_id").aggregate(
        sessions=starts.count(),
        recent_sessions=starts.count(where=starts.start >= window_start),
        current_start=starts.start.max(),
    )


def _latest(events: ir.Table) -> ir.Table:
    """Source, medium and campaign of the latest attributed event; latest device and country."""
    attributed = events.source.notnull()
    measures = {
        name: events[name].argmax(events.timestamp, where=attributed)
        for name in ("source", "medium", "campaign")
    }
    for name in ("device_type", "country"):
        having = events[name].notnull() & (events[name] != "")
        measures[name] = events[name].argmax(events.timestamp, where=having)
    return events.group_by("customer_id").aggregate(**measures)


def _affinities(t: Inputs, now: datetime, fields: list[str], config: AffinityConfig) -> ir.Table:
    """The requested ``affinity.*`` columns: share of a value when it is in the top ``top``."""
    ev = t.events
    weights = {action: config.weight(action) for action in ("view", "cart", "purchase")}
    kind_weight = ibis.cases(
        *((ev.kind == kind, weights[action]) for kind, action in ACTIONS.items()), else_=0.0
    )
    viewed = ev.filter(ev.kind.isin(list(ACTIONS))).mutate(w=kind_weight)
    hits = viewed.select("customer_id", "timestamp", "category", "brand", "price_tier", "w")
    bought = t.lines.mutate(w=ibis.literal(weights["purchase"]))
    hits = hits.union(
        bought.select("customer_id", "timestamp", "category", "brand", "price_tier", "w")
    )
    at = ibis.literal(now, type=hits.timestamp.type())
    age = ibis.greatest(_age_days(at, hits.timestamp), 0.0)
    hits = hits.mutate(score=hits.w * (-age / config.half_life_days * math.log(2)).exp())
    path = hits.category  # stored normalised by the catalog: no leading or trailing '/'
    values = {
        "category": path.split("/")[0],
        "category_path": path,
        "brand": hits.brand,
        "price_tier": hits.price_tier,
    }
    wanted = affinity_fields(fields)
    ranked: ir.Table | None = None
    for dimension in sorted({d for _, d, _ in wanted}):
        long = hits.select("customer_id", "score", value=values[dimension])
        long = long.filter(long.value.notnull() & (long.value != ""))
        per = long.group_by(["customer_id", "value"]).aggregate(score=long.score.sum())
        per = per.mutate(
            dimension=ibis.literal(dimension),
            total=per.score.sum().over(ibis.window(group_by=per.customer_id)),
            rank=ibis.row_number().over(
                ibis.window(group_by=per.customer_id, order_by=[ibis.desc(per.score), per.value])
            ),
        )
        ranked = per if ranked is None else ranked.union(per)
    assert ranked is not None
    top = ranked.filter((ranked["rank"] < config.top) & (ranked.total > 0))
    share = (top.score / top.total).round(6)
    return top.group_by("customer_id").aggregate(
        **{
            name: share.max(where=(top.dimension == dimension) & (top.value == value))
            for name, dimension, value in wanted
        }
    )
