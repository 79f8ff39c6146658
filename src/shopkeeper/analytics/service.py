"""Analytics over the store: RFM, CLV, KPIs, cohorts, high-value customers and advocates.

Each call loads what it needs from the store into a fresh engine (DuckDB in-process by
default, Spark by settings; see :mod:`shopkeeper.analytics.repository`), runs the portable
expressions of ``summary``, ``kpis`` and ``cohorts`` there, and applies the pure maths of
``rfm`` and ``clv`` to the small per-customer result. The service never commits: reads take
any session, :meth:`AnalyticsService.write_back` writes in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session

from shopkeeper.analytics import advocacy, engine, kpis, repository, rfm, summary
from shopkeeper.analytics import clv as clv_maths
from shopkeeper.analytics import cohorts as cohort_exprs
from shopkeeper.analytics.schemas import (
    ClvCustomer,
    ClvHoldout,
    ClvReport,
    CohortReport,
    KpiDefinition,
    KpiReport,
    MovementReport,
    RfmCustomer,
    RfmReport,
    SegmentMove,
    Transition,
    ValuedCustomer,
    ValuedList,
    WriteBackResult,
)
from shopkeeper.customers.repository import find_customer
from shopkeeper.errors import Invalid, NotFound
from shopkeeper.models import CustomerScore

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

__all__ = ["HIGH_VALUE_SEGMENTS", "NAMED_LISTS", "AnalyticsService"]

#: Segments whose customers are high value whatever their spend score.
HIGH_VALUE_SEGMENTS = frozenset({rfm.Segment.CHAMPIONS, rfm.Segment.LOYAL})
#: The named lists of :meth:`AnalyticsService.named_list`.
NAMED_LISTS = ("high-value", "advocates")
WEEK_DAYS = 7.0


class AnalyticsService:
    """Customer value analytics for one shop. Never commits."""

    def __init__(self, shop: Shopkeeper) -> None:
        self.shop = shop

    @contextmanager
    def _engine(
        self,
        session: Session,
        tables: Sequence[str],
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[BaseBackend]:
        con = engine.connect(self.shop.settings)
        try:
            repository.load(session.connection(), con, tables=tables, start=start, end=end)
            yield con
        finally:
            engine.close(con)

    def _today(self) -> date:
        return self.shop.clock.now().astimezone(UTC).date()

    # --- RFM ---------------------------------------------------------------------------------

    def rfm(
        self, session: Session, reference_date: date | None = None, window_days: int | None = None
    ) -> RfmReport:
        """Quintile R/F/M scores and named segments of every customer with a counted order.

        Monetary is total spend in the window. ``reference_date`` defaults to today (the
        shop's clock); orders after it are ignored.
        """
        reference = reference_date or self._today()
        with self._engine(session, ("orders",)) as con:
            orders = con.table("orders")
            orders = orders.filter(orders.counted & orders.customer_id.notnull())
            inputs = summary.rfm_inputs(orders, reference, window_days=window_days)
            frame = inputs.to_pandas().sort_values("customer_id", ignore_index=True)
        return _rfm_report(frame, reference, window_days)

    def movements(
        self,
        session: Session,
        before: date,
        after: date | None = None,
        window_days: int | None = None,
    ) -> MovementReport:
        """Segment changes between two reference days (who slipped from Loyal to At risk).

        Each day is scored on its own (quintiles are relative to that day's customers), with
        the same ``window_days``. Unchanged customers are left out.
        """
        after = after or self._today()
        if before >= after:
            raise Invalid("before must be earlier than after", detail={"field": "before"})
        then = self.rfm(session, before, window_days)
        now = self.rfm(session, after, window_days)
        moved = rfm.movements(
            {c.customer_id: rfm.Segment(c.segment) for c in then.customers},
            {c.customer_id: rfm.Segment(c.segment) for c in now.customers},
        )
        counts = Counter((m.before, m.after) for m in moved)
        return MovementReport(
            before_date=before,
            after_date=after,
            transitions=[
                Transition(before=b, after=a, customers=n)
                for (b, a), n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
            ],
            customers=[
                SegmentMove(customer_id=str(m.customer_id), before=m.before, after=m.after)
                for m in moved
            ],
        )

    def high_value(
        self, session: Session, reference_date: date | None = None
    ) -> list[ValuedCustomer]:
        """Customers in the top two spend quintiles (M 4–5) or in Champions/Loyal.

        Sorted by spend, highest first.
        """
        report = self.rfm(session, reference_date)
        return _valued(
            [c for c in report.customers if c.m >= 4 or c.segment in HIGH_VALUE_SEGMENTS], {}
        )

    def advocates(
        self, session: Session, reference_date: date | None = None
    ) -> list[ValuedCustomer]:
        """Advocate candidates: engagement (reviews, shares, referrals, social posts) per
        visit, weighted by value; see :mod:`shopkeeper.analytics.advocacy` for the score.

        Counts every advocacy event and visit of a customer up to the reference day (default
        today), including customers who have not ordered (value 0, orders 0), and lists those
        the shop can reach (a userId or an e-mail). Sorted by advocacy score, highest first.
        """
        reference = reference_date or self._today()
        end = datetime.combine(reference + timedelta(days=1), time(), tzinfo=UTC)
        with self._engine(session, ("events",), end=end) as con:
            expr = summary.advocacy_activity(
                con.table("events"), sorted(advocacy.POINTS), advocacy.VISIT_KINDS
            )
            wide = expr.to_pandas()
        kinds = sorted(advocacy.POINTS)
        wide = wide[wide[kinds].sum(axis=1) > 0].sort_values("customer_id", ignore_index=True)
        buyers = {c.customer_id: c for c in self.rfm(session, reference).customers}
        ids = [str(c) for c in wide.customer_id]
        orders = [buyers[c].frequency if c in buyers else 0 for c in ids]
        m = [buyers[c].m if c in buyers else 0 for c in ids]
        visits = wide.visits.to_numpy()
        result = advocacy.score({k: wide[k].to_numpy() for k in kinds}, visits, m)
        shortlist = [cid for i, cid in enumerate(ids) if result.candidate[i]]
        reachable = repository.reachable(session, shortlist)
        chosen = [
            ValuedCustomer(
                customer_id=cid,
                segment=buyers[cid].segment if cid in buyers else "",
                m=m[i],
                monetary_total=buyers[cid].monetary_total if cid in buyers else 0.0,
                advocacy_actions=int(result.actions[i]),
                orders=orders[i],
                visits=int(visits[i]),
                engagement_points=float(result.points[i]),
                advocacy_score=float(result.score[i]),
            )
            for i, cid in enumerate(ids)
            if result.candidate[i] and cid in reachable
        ]
        return sorted(chosen, key=lambda v: (-v.advocacy_score, -v.monetary_total, v.customer_id))

    def named_list(
        self,
        session: Session,
        name: str,
        reference_date: date | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
    ) -> ValuedList:
        """A page of one of :data:`NAMED_LISTS` (:meth:`high_value` or :meth:`advocates`)."""
        if name not in NAMED_LISTS:
            raise Invalid(f"name must be one of {', '.join(NAMED_LISTS)}", detail={"field": "name"})
        if limit < 0:
            raise Invalid("limit must be 0 or more", detail={"field": "limit"})
        if offset < 0:
            raise Invalid("offset must be 0 or more", detail={"field": "offset"})
        reference = reference_date or self._today()
        if name == "advocates":
            rows = self.advocates(session, reference)
        else:
            rows = self.high_value(session, reference)
        return ValuedList(
            name=name,
            reference_date=reference,
            total=len(rows),
            offset=offset,
            customers=rows[offset : offset + limit],
        )

    # --- CLV ---------------------------------------------------------------------------------

    def clv(
        self,
        session: Session,
        horizon_months: int = 12,
        calibration_end: date | None = None,
        *,
        level: float = 0.9,
    ) -> ClvReport:
        """BG/NBD + Gamma-Gamma lifetime value over ``horizon_months``, with an interval.

        Fitted on one transaction per customer-day up to ``calibration_end``, recency and T in
        weeks. ``calibration_end`` defaults to the day of the last counted order in the store,
        not today: T ("weeks observed") must end where the data ends, or a shop whose import
        stopped a month ago would look a month more lapsed than it is and every P(alive) and
        CLV would be too low. Raises :class:`Invalid` when the shop has no orders or no repeat
        customers (the models cannot be fitted).
        """
        if not 1 <= horizon_months <= 120:
            raise Invalid("horizon_months must be 1–120", detail={"field": "horizon_months"})
        with self._engine(session, ("orders",)) as con:
            orders = con.table("orders")
            orders = orders.filter(orders.counted & orders.customer_id.notnull())
            end = calibration_end or _last_day(orders)
            frame = summary.customer_summary(orders, end, unit_days=WEEK_DAYS).to_pandas()
        frame = frame.sort_values("customer_id", ignore_index=True)
        repeat = frame[(frame.frequency > 0) & (frame.monetary_value > 0)]
        if repeat.empty:
            raise Invalid(
                "lifetime value needs repeat customers with positive spend",
                detail={"field": "calibration_end"},
            )
        bg = clv_maths.fit_bgnbd(frame.frequency, frame.recency, frame["T"])
        gg = clv_maths.fit_gamma_gamma(repeat.frequency, repeat.monetary_value)
        args = (frame.frequency, frame.recency, frame["T"])
        estimate = clv_maths.customer_lifetime_value(
            bg, gg, *args, frame.monetary_value, months=horizon_months, level=level
        )
        alive = clv_maths.probability_alive(bg.params, *args)
        horizon = horizon_months * clv_maths.WEEKS_PER_MONTH
        purchases = clv_maths.expected_purchases(bg.params, horizon, *args)
        customers = [
            ClvCustomer(
                customer_id=str(row.customer_id),
                frequency=int(row.frequency),
                recency=float(row.recency),
                T=float(row.T),
                monetary_value=float(row.monetary_value),
                p_alive=float(alive[i]),
                expected_purchases=float(purchases[i]),
                clv=float(estimate.clv[i]),
                clv_low=float(estimate.lower[i]),
                clv_high=float(estimate.upper[i]),
            )
            for i, row in enumerate(frame.itertuples(index=False))
        ]
        customers.sort(key=lambda c: (-c.clv, c.customer_id))
        return ClvReport(
            calibration_end=end,
            horizon_months=horizon_months,
            level=level,
            bgnbd=_params(bg.params),
            gamma_gamma=_params(gg.params),
            total_clv=float(np.sum(estimate.clv)),
            customers=customers,
        )

    def clv_holdout(
        self, session: Session, calibration_end: date, holdout_end: date | None = None
    ) -> ClvHoldout:
        """Back-test CLV: fit up to ``calibration_end``, rank, and score against what followed.

        ``holdout_end`` defaults to the last order's day. The CLV horizon is the holdout's
        length in whole months (at least one). See :class:`ClvHoldout` for the figures.
        """
        with self._engine(session, ("orders",)) as con:
            orders = con.table("orders")
            orders = orders.filter(orders.counted & orders.customer_id.notnull())
            holdout_end = holdout_end or _last_day(orders)
            day = orders.timestamp.cast("date")
            calibration = ibis.literal(calibration_end)
            spend = orders.group_by("customer_id").aggregate(
                past=orders.amount.sum(where=day <= calibration),
                future=orders.amount.sum(
                    where=(day > calibration) & (day <= ibis.literal(holdout_end))
                ),
            )
            frame = spend.to_pandas().fillna(0.0)
        if holdout_end <= calibration_end:
            raise Invalid(
                "holdout_end must be after calibration_end", detail={"field": "holdout_end"}
            )
        months = max(1, round((holdout_end - calibration_end).days / clv_maths.DAYS_PER_MONTH))
        report = self.clv(session, months, calibration_end)
        predicted = {c.customer_id: c.clv for c in report.customers}
        known = frame[frame.customer_id.isin(predicted)].copy()
        known["clv"] = known.customer_id.map(predicted)
        top = max(1, -(-len(known) // 10))
        revenue = float(known.future.sum())

        def share(column: str) -> float:
            ranked = known.sort_values([column, "customer_id"], ascending=[False, True])
            return float(ranked.future.head(top).sum()) / revenue if revenue > 0 else 0.0

        return ClvHoldout(
            calibration_end=calibration_end,
            holdout_end=holdout_end,
            horizon_months=months,
            customers=len(known),
            top_decile_customers=top,
            holdout_revenue=revenue,
            top_decile_share=share("clv"),
            past_spend_share=share("past"),
            hindsight_share=share("future"),
            new_customer_revenue=float(frame[~frame.customer_id.isin(predicted)].future.sum()),
        )

    # --- KPIs and cohorts --------------------------------------------------------------------

    def kpis(
        self,
        session: Session,
        grain: str = "day",
        by: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> KpiReport:
        """Per-period KPIs (see :mod:`shopkeeper.analytics.kpis`), oldest period first."""
        if grain not in kpis.GRAINS:
            raise Invalid("grain must be day, week or month", detail={"field": "grain"})
        if by is not None and by not in kpis.DIMENSIONS:
            raise Invalid(f"by must be one of {', '.join(kpis.DIMENSIONS)}", detail={"field": "by"})
        if start is not None and end is not None and start >= end:
            raise Invalid("start must be before end", detail={"field": "start"})
        tables = ("orders", "events", "scores") if by == "segment" else ("orders", "events")
        with self._engine(session, tables) as con:
            scores = con.table("scores") if by == "segment" else None
            expr = kpis.kpi_table(
                con.table("orders"),
                con.table("events"),
                grain=grain,
                by=by,
                start=start,
                end=end,
                scores=scores,
            )
            frame = expr.to_pandas().sort_values(["period", "dimension"], ignore_index=True)
        columns = [str(c) for c in frame.columns]
        return KpiReport(
            grain=grain,
            by=by,
            definitions=[KpiDefinition(name=k.name, tag=k.tag) for k in kpis.KPIS],
            columns=columns,
            rows=[_cells(row) for row in frame.to_dict("records")],
        )

    def cohorts(self, session: Session, max_offset: int | None = None) -> CohortReport:
        """Monthly retention by first-order month, as a cohort × month-offset matrix."""
        if max_offset is not None and max_offset < 0:
            raise Invalid("max_offset must be 0 or more", detail={"field": "max_offset"})
        with self._engine(session, ("orders",)) as con:
            expr = cohort_exprs.retention(con.table("orders"), max_offset=max_offset)
            frame = expr.to_pandas()
        if frame.empty:
            return CohortReport(cohorts=[], offsets=[], sizes=[], retention=[])
        matrix = frame.pivot(index="cohort", columns="offset", values="retention").sort_index()
        offsets = list(range(int(frame.offset.max()) + 1))
        matrix = matrix.reindex(columns=offsets)
        sizes = frame.groupby("cohort")["size"].first().reindex(matrix.index)
        return CohortReport(
            cohorts=[_as_date(c) for c in matrix.index],
            offsets=offsets,
            sizes=[int(s) for s in sizes],
            retention=[
                [None if pd.isna(v) else float(v) for v in row] for row in matrix.to_numpy()
            ],
        )

    # --- write-back --------------------------------------------------------------------------

    def write_back(
        self, session: Session, reference_date: date | None = None, horizon_months: int = 12
    ) -> WriteBackResult:
        """Store every customer's RFM scores and segment, CLV with its interval and P(alive).

        The scores are recomputed for everyone (quintiles and the fitted model are properties
        of the whole customer base, and recency moves daily), but only rows that changed are
        written: ``computed_at`` is when a row's scores last changed. CLV columns stay null
        when the shop has no repeat customers yet. Runs in the caller's transaction.
        """
        reference = reference_date or self._today()
        report = self.rfm(session, reference)
        try:
            value = {
                c.customer_id: c for c in self.clv(session, horizon_months, reference).customers
            }
        except Invalid:
            value = {}
        now = self.shop.clock.now()
        rows: list[dict[str, Any]] = []
        for c in report.customers:
            v = value.get(c.customer_id)
            rows.append(
                {
                    "customer_id": c.customer_id,
                    "rfm_r": c.r,
                    "rfm_f": c.f,
                    "rfm_m": c.m,
                    "rfm_segment": c.segment,
                    "clv": v.clv if v else None,
                    "clv_low": v.clv_low if v else None,
                    "clv_high": v.clv_high if v else None,
                    "p_alive": v.p_alive if v else None,
                    "computed_at": now,
                }
            )
        written, unchanged, removed = repository.store_scores(session, rows)
        return WriteBackResult(
            customers=len(rows),
            with_clv=len(value),
            computed_at=now,
            written=written,
            unchanged=unchanged,
            removed=removed,
        )

    def score_of(self, session: Session, identifier: str) -> CustomerScore | None:
        """The stored scores of the customer behind ``identifier`` (None if not computed)."""
        customer = find_customer(session, identifier)
        if customer is None:
            raise NotFound(f"no customer {identifier!r}", detail={"field": "identifier"})
        return repository.score_of(session, customer.id)


def _last_day(orders: Any) -> date:
    """The UTC day of the latest order in ``orders`` (an Ibis table)."""
    last = orders.timestamp.max().to_pyarrow().as_py()
    if last is None:
        raise Invalid("lifetime value needs orders", detail={"field": "calibration_end"})
    return _as_date(last.astimezone(UTC) if last.tzinfo else last)


def _rfm_report(frame: pd.DataFrame, reference: date, window_days: int | None) -> RfmReport:
    scores = rfm.score(frame.recency_days, frame.frequency, frame.monetary_total)
    grid = [[0] * 5 for _ in range(5)]
    for r, f in zip(scores.recency.tolist(), scores.frequency.tolist(), strict=True):
        grid[r - 1][f - 1] += 1
    counts = Counter(str(s) for s in scores.segments)
    customers = [
        RfmCustomer(
            customer_id=str(row.customer_id),
            recency_days=int(row.recency_days),
            frequency=int(row.frequency),
            monetary_total=float(row.monetary_total),
            average_order_value=float(row.average_order_value),
            r=int(scores.recency[i]),
            f=int(scores.frequency[i]),
            m=int(scores.monetary[i]),
            segment=str(scores.segments[i]),
        )
        for i, row in enumerate(frame.itertuples(index=False))
    ]
    return RfmReport(
        reference_date=reference,
        window_days=window_days,
        segments={str(s): counts.get(str(s), 0) for s in rfm.Segment},
        grid=grid,
        customers=customers,
    )


def _valued(
    customers: Sequence[RfmCustomer | ValuedCustomer], actions: dict[str, int]
) -> list[ValuedCustomer]:
    valued = [
        ValuedCustomer(
            customer_id=c.customer_id,
            segment=c.segment,
            m=c.m,
            monetary_total=c.monetary_total,
            advocacy_actions=actions.get(c.customer_id, 0),
        )
        for c in customers
    ]
    return sorted(valued, key=lambda v: (-v.monetary_total, v.customer_id))


def _params(params: clv_maths.BgNbdParams | clv_maths.GammaGammaParams) -> dict[str, float]:
    return {k: float(v) for k, v in vars(params).items()}


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parsed: date = pd.Timestamp(value).date()
    return parsed


def _cells(row: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out[str(key)] = None
        elif isinstance(value, (pd.Timestamp, datetime, date)):
            out[str(key)] = _as_date(value)
        elif isinstance(value, np.integer):
            out[str(key)] = int(value)
        elif isinstance(value, np.floating):
            out[str(key)] = float(value)
        else:
            out[str(key)] = value
    return out
