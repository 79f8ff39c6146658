"""``GET /v1/analytics/{rfm,clv,kpis,cohorts,high-value,advocates}``: customer value analytics
(read keys).

Each call loads the store into the analytics engine and computes from scratch: seconds on a
large shop, so a dashboard should poll, not call per page view.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Query

from shopkeeper.analytics.schemas import (
    ClvReport,
    CohortReport,
    KpiReport,
    MovementReport,
    RfmReport,
    ValuedList,
)
from shopkeeper.dependencies import ReadKey, ShopDep

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

Limit = Query(100, ge=0, le=100_000, description="Most customers listed (aggregates use all).")
Offset = Query(0, ge=0, description="Customers of the list skipped before the page.")
ReferenceDate = Query(None, description="As-of day (default: today).")


@router.get("/rfm")
def rfm(
    shop: ShopDep,
    _key: ReadKey,
    reference_date: date | None = Query(None, description="As-of day (default: today)."),
    window_days: int | None = Query(None, ge=1, description="Only orders in this many days."),
    limit: int = Limit,
) -> RfmReport:
    """RFM scores 1–5, customers per segment and the 5×5 R/F grid; best customers first."""
    with shop.db.sessions() as session:
        report = shop.analytics.rfm(session, reference_date, window_days)
    best = sorted(report.customers, key=lambda c: (-c.r - c.f - c.m, c.customer_id))
    return report.model_copy(update={"customers": best[:limit]})


@router.get("/rfm/movements")
def rfm_movements(
    shop: ShopDep,
    _key: ReadKey,
    before: date = Query(description="Earlier reference day."),
    after: date | None = Query(None, description="Later reference day (default: today)."),
    window_days: int | None = Query(None, ge=1),
    limit: int = Limit,
) -> MovementReport:
    """Who changed RFM segment between two days, and how many per (before, after) pair."""
    with shop.db.sessions() as session:
        report = shop.analytics.movements(session, before, after, window_days)
    return report.model_copy(update={"customers": report.customers[:limit]})


@router.get("/clv")
def clv(
    shop: ShopDep,
    _key: ReadKey,
    horizon_months: int = Query(12, ge=1, le=120),
    calibration_end: date | None = Query(
        None, description="Fit on orders up to this day (default: the last order's day)."
    ),
    limit: int = Limit,
) -> ClvReport:
    """BG/NBD + Gamma-Gamma lifetime value with a 90 % interval; highest value first."""
    with shop.db.sessions() as session:
        report = shop.analytics.clv(session, horizon_months, calibration_end)
    return report.model_copy(update={"customers": report.customers[:limit]})


@router.get("/kpis")
def kpis(
    shop: ShopDep,
    _key: ReadKey,
    grain: Literal["day", "week", "month"] = "day",
    by: Literal["channel", "device", "source", "country", "segment"] | None = None,
    start: datetime | None = Query(None, description="First instant counted."),
    end: datetime | None = Query(None, description="First instant not counted."),
) -> KpiReport:
    """KPIs per period (and dimension), each tagged leading or lagging, with changes."""
    with shop.db.sessions() as session:
        return shop.analytics.kpis(session, grain, by, start, end)


@router.get("/cohorts")
def cohorts(
    shop: ShopDep,
    _key: ReadKey,
    max_offset: int | None = Query(None, ge=0, le=600, description="Months shown."),
) -> CohortReport:
    """Monthly retention by first-order month: a cohort × month-offset matrix."""
    with shop.db.sessions() as session:
        return shop.analytics.cohorts(session, max_offset)


@router.get("/high-value")
def high_value(
    shop: ShopDep,
    _key: ReadKey,
    reference_date: date | None = ReferenceDate,
    limit: int = Limit,
    offset: int = Offset,
) -> ValuedList:
    """High-value customers: RFM spend score 4–5, or Champions / Loyal; highest spend first."""
    with shop.db.sessions() as session:
        return shop.analytics.named_list(
            session, "high-value", reference_date, limit=limit, offset=offset
        )


@router.get("/advocates")
def advocates(
    shop: ShopDep,
    _key: ReadKey,
    reference_date: date | None = ReferenceDate,
    limit: int = Limit,
    offset: int = Offset,
) -> ValuedList:
    """Advocate candidates: reviews, shares, referrals and social posts per visit, weighted
    by value; highest advocacy score first."""
    with shop.db.sessions() as session:
        return shop.analytics.named_list(
            session, "advocates", reference_date, limit=limit, offset=offset
        )
