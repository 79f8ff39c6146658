"""Analytics result shapes: what the API returns and the CLI prints, shaped for charting."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

Cell = str | int | float | date | None


class RfmCustomer(BaseModel):
    customer_id: str
    recency_days: int
    frequency: int
    monetary_total: float
    average_order_value: float
    r: int
    f: int
    m: int
    segment: str


class RfmReport(BaseModel):
    """Per-customer scores, customers per segment, and the 5×5 R/F grid of counts.

    ``grid[r - 1][f - 1]`` is the number of customers with recency score r and frequency
    score f: a heat-map a dashboard can draw as is.
    """

    reference_date: date
    window_days: int | None
    segments: dict[str, int]
    grid: list[list[int]]
    customers: list[RfmCustomer]


class Transition(BaseModel):
    before: str | None
    after: str | None
    customers: int


class SegmentMove(BaseModel):
    customer_id: str
    before: str | None
    after: str | None


class MovementReport(BaseModel):
    """Who changed RFM segment between two reference days (``None``: not a customer then).

    ``transitions`` counts customers per (before, after) pair, largest first: the edges of a
    Sankey chart.
    """

    before_date: date
    after_date: date
    transitions: list[Transition]
    customers: list[SegmentMove]


class ClvCustomer(BaseModel):
    customer_id: str
    frequency: int
    recency: float
    T: float
    monetary_value: float
    p_alive: float
    expected_purchases: float
    clv: float
    clv_low: float
    clv_high: float


class ClvReport(BaseModel):
    """Fitted parameters, the interval's level, and per-customer CLV (highest first).

    Recency, T and the BG/NBD parameters are in weeks; the interval is parameter uncertainty
    (delta method, see :mod:`shopkeeper.analytics.clv`).
    """

    calibration_end: date
    horizon_months: int
    level: float
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    total_clv: float
    customers: list[ClvCustomer]


class ClvHoldout(BaseModel):
    """How well CLV ranks customers: the holdout revenue captured by the top decile.

    Customers are those with a counted order on or before ``calibration_end``; the top decile
    is the tenth of them (rounded up) with the highest predicted CLV over the holdout length,
    and ``top_decile_share`` is their share of those customers' revenue in the holdout
    (``calibration_end``, ``holdout_end``]. ``past_spend_share`` is the same for the tenth who
    had spent most by ``calibration_end`` (the naive baseline), ``hindsight_share`` for the tenth
    who did spend most in the holdout (the ceiling no ranking can pass). ``new_customer_revenue``
    is holdout revenue from customers first seen in the holdout, whom no model can rank.
    """

    calibration_end: date
    holdout_end: date
    horizon_months: int
    customers: int
    top_decile_customers: int
    holdout_revenue: float
    top_decile_share: float
    past_spend_share: float
    hindsight_share: float
    new_customer_revenue: float


class KpiDefinition(BaseModel):
    name: str
    tag: str


class KpiReport(BaseModel):
    """One row per (period, dimension); ``columns`` lists the row keys in display order."""

    grain: str
    by: str | None
    definitions: list[KpiDefinition]
    columns: list[str]
    rows: list[dict[str, Cell]]


class CohortReport(BaseModel):
    """Retention matrix: ``retention[i][k]`` for cohort ``cohorts[i]`` at month offset k
    (null where nobody came back), with ``sizes[i]`` customers in the cohort."""

    cohorts: list[date]
    offsets: list[int]
    sizes: list[int]
    retention: list[list[float | None]]


class ValuedCustomer(BaseModel):
    """A high-value customer or advocate candidate, and why."""

    customer_id: str
    segment: str
    m: int
    monetary_total: float
    advocacy_actions: int
    orders: int = 0
    visits: int = 0
    engagement_points: float = 0.0
    advocacy_score: float = 0.0
    """Engagement per visit weighted by value (see :mod:`shopkeeper.analytics.advocacy`)."""


class ValuedList(BaseModel):
    """A named list of customers, a page at a time; ``total`` counts the whole list.

    ``high-value``: RFM spend score 4–5 or segment Champions / Loyal, highest spend first.
    ``advocates``: advocate candidates, highest advocacy score first.
    """

    name: str
    reference_date: date
    total: int
    offset: int
    customers: list[ValuedCustomer]


class WriteBackResult(BaseModel):
    customers: int
    with_clv: int
    computed_at: datetime
    #: Rows inserted or updated because their scores changed, left as they were, and deleted
    #: (customers no longer scored, e.g. whose orders were all cancelled).
    written: int = 0
    unchanged: int = 0
    removed: int = 0
