"""The scorecard: run every check of :mod:`shopkeeper.quality.checks` against the store through
:mod:`shopkeeper.quality.repository`, then score the counts.

Time comes from the injected clock (``shop.clock``): "in the future" means later than
``now + 1 day`` (a day of slack for senders' time zones and clock skew), freshness is measured
from ``now``. The volume anomaly window ends at the newest event instead, so an imported
history is checked too; a feed that stopped is what the freshness checks report.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import SQLColumnExpression, func
from sqlalchemy.orm import Session

from shopkeeper.customers.schemas import CONSENT_PURPOSES
from shopkeeper.errors import Invalid
from shopkeeper.events.kinds import PRODUCT_KINDS
from shopkeeper.models import Consent, Customer, Event, Identity, Order, OrderLine
from shopkeeper.quality import repository as repo
from shopkeeper.quality.checks import (
    CHECKS,
    CURRENCIES,
    TABLES,
    Count,
    Finding,
    anomalies,
    duration,
    percentile_from_histogram,
    score,
)
from shopkeeper.quality.schemas import Scorecard

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

__all__ = ["QualityService"]

#: Timestamps before this are typos or epoch defaults, not shop history.
FLOOR = datetime(1990, 1, 1, tzinfo=UTC)
#: Bucket edges (seconds) of the event-lag histogram; percentiles are read at these edges.
LAG_EDGES = (1, 5, 15, 60, 300, 900, 3_600, 21_600, 86_400, 604_800, 2_592_000)
#: An event that arrives later than this after it happened is late.
LATE_SECONDS = 3_600
#: A source/medium or an event kind silent for longer than this is stale.
STALE_HOURS = 48
#: Days of daily volume per source examined for anomalies, and the least that makes a baseline.
ANOMALY_DAYS = 28
MIN_ANOMALY_DAYS = 7
#: Sources averaging fewer events a day than this are too sparse for a robust baseline.
MIN_DAILY_EVENTS = 5.0
#: Order statuses after which negative quantities and totals are expected.
UNDONE = ("cancelled", "refunded", "partially_refunded")


class QualityService:
    """Builds the data-quality scorecard. Only reads; never commits."""

    def __init__(self, shop: Shopkeeper) -> None:
        self.shop = shop

    def scorecard(self, session: Session, table: str | None = None) -> Scorecard:
        """Scores and findings for every table, or only for ``table``.

        Raises:
            Invalid: ``table`` is not one of :data:`~shopkeeper.quality.checks.TABLES`.
        """
        if table is not None and table not in TABLES:
            raise Invalid(
                f"unknown table {table!r}: use one of {', '.join(TABLES)}",
                detail={"field": "table"},
            )
        now = self.shop.clock.now()
        counts: dict[str, Count] = {}
        for name in (table,) if table else TABLES:
            counts.update(self._measure(session, name, now))
        findings = [Finding(CHECKS[check], count) for check, count in counts.items()]
        return Scorecard.build(findings, score(findings), generated_at=now, table=table)

    def _measure(self, session: Session, table: str, now: datetime) -> dict[str, Count]:
        soon = now + timedelta(days=1)
        counts: dict[str, Count] = {}
        if table == "customers":
            counts.update(repo.count_rules(session, *repo.customer_rules(soon, FLOOR)))
            email = func.lower(Customer.email)
            counts["customers.duplicate_email"] = repo.duplicates(
                session,
                [email],
                Customer.id,
                Customer.__table__,
                (Customer.merged_into_id.is_(None)) & Customer.email.is_not(None),
            )
        elif table == "identities":
            counts.update(repo.count_rules(session, *repo.identity_rules(soon, FLOOR)))
            counts["identities.duplicate_email"] = repo.duplicates(
                session,
                [func.lower(Identity.value)],
                Identity.id,
                Identity.__table__,
                Identity.kind == "email",
            )
        elif table == "products":
            counts.update(repo.count_rules(session, *repo.product_rules(CURRENCIES)))
        elif table == "orders":
            counts.update(self._orders(session, soon))
        elif table == "order_lines":
            counts.update(self._lines(session))
        elif table == "events":
            counts.update(self._events(session, soon, now))
        elif table == "consents":
            rules = repo.consent_rules(soon, FLOOR, CONSENT_PURPOSES)
            counts.update(repo.count_rules(session, *rules))
            keys: list[SQLColumnExpression[Any]] = [
                Consent.customer_id,
                Consent.purpose,
                Consent.granted,
                Consent.recorded_at,
            ]
            counts["consents.duplicate"] = repo.duplicates(
                session, keys, Consent.id, Consent.__table__
            )
        return counts

    def _orders(self, session: Session, soon: datetime) -> dict[str, Count]:
        counts = repo.count_rules(session, *repo.order_rules(soon, FLOOR, CURRENCIES, UNDONE))
        statuses = repo.status_counts(session)
        cancelled = counts["orders.cancelled"]
        counts["orders.cancelled"] = Count(
            cancelled.affected,
            cancelled.total,
            cancelled.examples,
            {status: statuses.get(status, 0) for status in UNDONE},
        )
        keys: list[SQLColumnExpression[Any]] = [Order.customer_id, Order.placed_at, Order.total]
        counts["orders.duplicate"] = repo.duplicates(
            session, keys, Order.id, Order.__table__, Order.customer_id.is_not(None)
        )
        counts["orders.total_mismatch"] = repo.total_mismatch(session)
        return counts

    def _lines(self, session: Session) -> dict[str, Count]:
        counts = repo.count_rules(session, *repo.line_rules(UNDONE))
        keys: list[SQLColumnExpression[Any]] = [
            OrderLine.order_id,
            OrderLine.sku,
            OrderLine.quantity,
            OrderLine.unit_price,
        ]
        counts["order_lines.duplicate"] = repo.duplicates(
            session, keys, repo.line_example(), OrderLine.__table__, order_by=OrderLine.id
        )
        runs = repo.import_runs(session)
        dropped = sum(int(run.get("duplicates", 0)) for run in runs)
        read = sum(int(run.get("rows", 0)) for run in runs)
        files = tuple(dict.fromkeys(str(f) for run in runs for f in run.get("files", [])))
        counts["order_lines.import_duplicates"] = Count(dropped, read, files[:5])
        return counts

    def _events(self, session: Session, soon: datetime, now: datetime) -> dict[str, Count]:
        counts = repo.count_rules(session, *repo.event_rules(soon, FLOOR, CURRENCIES))
        keys: list[SQLColumnExpression[Any]] = [
            Event.user_id,
            Event.anonymous_id,
            Event.kind,
            Event.timestamp,
            Event.sku,
            Event.order_id,
        ]
        counts["events.duplicate"] = repo.duplicates(session, keys, Event.id, Event.__table__)
        counts["events.late"] = self._lag(session)
        source = func.coalesce(Event.source, "(none)") + "/" + func.coalesce(Event.medium, "(none)")
        counts["events.stale_source"] = self._stale(session, source, now)
        counts["events.stale_kind"] = self._stale(session, Event.kind, now)
        counts["events.cart_without_view"] = repo.carts_without_view(session)
        counts["events.refund_without_order"] = repo.refunds_without_order(session)
        counts["events.unknown_sku"] = repo.events_unknown_sku(session, sorted(PRODUCT_KINDS))
        counts["events.volume_anomaly"] = self._volume(session, soon)
        return counts

    def _lag(self, session: Session) -> Count:
        histogram = repo.lag_histogram(session, LAG_EDGES)
        late = sum(n for edge, n in _with_edges(histogram) if edge > LATE_SECONDS)
        quantiles = {
            f"p{round(q * 100)}": duration(percentile_from_histogram(LAG_EDGES, histogram, q))
            for q in (0.5, 0.95, 0.99)
        }
        return Count(late, sum(histogram), (), quantiles)

    def _stale(self, session: Session, key: SQLColumnExpression[Any], now: datetime) -> Count:
        hours = {
            str(values[0]): (now - last).total_seconds() / 3_600
            for values, last in repo.last_seen(session, key)
        }
        stale = sorted(
            (name for name, h in hours.items() if h > STALE_HOURS), key=lambda name: hours[name]
        )
        examples = tuple(f"{name}: {hours[name]:,.0f}h" for name in stale[:5])
        return Count(len(stale), len(hours), examples, {"hours": STALE_HOURS})

    def _volume(self, session: Session, soon: datetime) -> Count:
        newest = repo.newest_event(session, soon)
        detail = {"days": ANOMALY_DAYS}
        if newest is None:
            return Count(0, 0, (), detail)
        last = newest.date()
        first = last - timedelta(days=ANOMALY_DAYS - 1)
        since = datetime(first.year, first.month, first.day, tzinfo=UTC)
        volumes: dict[str, dict[str, int]] = {}
        for source, day, n in repo.daily_volume(session, since):
            volumes.setdefault(source, {})[day] = n
        seen_days = {day for per_day in volumes.values() for day in per_day}
        start = max(first, min(datetime.fromisoformat(d).date() for d in seen_days))
        days = [(start + timedelta(days=i)).isoformat() for i in range((last - start).days + 1)]
        if len(days) < MIN_ANOMALY_DAYS:
            return Count(0, 0, (), detail)
        cells = affected = 0
        flagged: list[tuple[float, str]] = []
        for source, per_day in sorted(volumes.items()):
            series = [float(per_day.get(day, 0)) for day in days]
            if sum(series) / len(series) < MIN_DAILY_EVENTS:
                continue
            cells += len(series)
            for day, volume, z in anomalies(days, series):
                affected += 1
                flagged.append((-abs(z), f"{source}@{day}: {volume:,.0f} events (z={z:+.1f})"))
        examples = tuple(text for _, text in sorted(flagged)[:5])
        return Count(affected, cells, examples, detail)


def _with_edges(histogram: list[int]) -> Iterator[tuple[float, int]]:
    """``(upper edge, count)``; the overflow bucket's edge is infinite."""
    for i, n in enumerate(histogram):
        yield (LAG_EDGES[i] if i < len(LAG_EDGES) else float("inf")), n
