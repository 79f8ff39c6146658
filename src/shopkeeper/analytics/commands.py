"""``shopkeeper rfm | clv | kpis | cohorts | high-value | advocates``: customer value analytics
in the terminal.

Rich tables by default, ``--json`` for the same document the API returns, ``--svg PATH`` for
a chart (RFM grid, KPI trend, cohort heat-map).
"""

from __future__ import annotations

import time
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from shopkeeper.analytics import charts
from shopkeeper.analytics.schemas import KpiReport, ValuedList
from shopkeeper.cli import app, console, open_shop
from shopkeeper.errors import Invalid, ShopkeeperError

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

JSON = typer.Option(False, "--json", help="Print the result as JSON (the API's shape).")
LIMIT = typer.Option(20, "--limit", min=0, help="Customers listed.")
SVG = typer.Option(None, "--svg", help="Also write the chart as SVG to this path.")
OFFSET = typer.Option(0, "--offset", min=0, help="Customers of the list skipped first.")
REFERENCE_DATE = typer.Option(
    None, "--reference-date", formats=["%Y-%m-%d"], help="As-of day (default today)."
)


@app.command("rfm")
def rfm(
    reference_date: datetime | None = typer.Option(
        None, "--reference-date", formats=["%Y-%m-%d"], help="As-of day (default today)."
    ),
    window_days: int | None = typer.Option(None, "--window-days", min=1),
    write_back: bool = typer.Option(
        False, "--write-back", help="Store scores, CLV and P(alive) on the profiles."
    ),
    every: float | None = typer.Option(
        None,
        "--every",
        min=1.0,
        help="With --write-back: recompute and store every this many minutes until interrupted.",
    ),
    limit: int = LIMIT,
    as_json: bool = JSON,
    svg: Path | None = SVG,
) -> None:
    """RFM scores and segments of every customer with an order."""
    if every is not None and not write_back:
        raise Invalid("--every schedules the write-back: add --write-back", detail="every")
    day = reference_date.date() if reference_date else None
    with closing(open_shop()) as shop:
        if every is not None:
            _write_back_every(shop, every)
            return
        with shop.db.sessions() as session:
            report = shop.analytics.rfm(session, day, window_days)
        if write_back:
            _write_back_once(shop, day)
    if svg is not None:
        svg.write_text(charts.rfm_grid(report))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    segments = Table("segment", "customers", title=f"RFM segments on {report.reference_date}")
    for name, count in sorted(report.segments.items(), key=lambda kv: -kv[1]):
        segments.add_row(name, f"{count:,}")
    console.print(segments)
    best = sorted(report.customers, key=lambda c: (-c.r - c.f - c.m, c.customer_id))[:limit]
    table = Table("customer", "R", "F", "M", "segment", "days", "orders", "spend")
    for c in best:
        table.add_row(
            c.customer_id,
            str(c.r),
            str(c.f),
            str(c.m),
            c.segment,
            str(c.recency_days),
            str(c.frequency),
            f"{c.monetary_total:,.2f}",
        )
    console.print(table)


def _write_back_once(shop: Shopkeeper, day: date | None) -> None:
    with shop.db.transaction() as session:
        stored = shop.analytics.write_back(session, day)
    console.print(
        f"scored {stored.customers:,} customers: {stored.written:,} changed and written, "
        f"{stored.unchanged:,} unchanged, {stored.removed:,} removed"
    )


def _write_back_every(shop: Shopkeeper, minutes: float) -> None:
    """The schedule: today's scores every ``minutes`` (a failed round is reported, not fatal)."""
    while True:
        try:
            _write_back_once(shop, None)
        except ShopkeeperError as exc:
            console.print(f"[red]write-back failed:[/red] {exc.message}")
        time.sleep(minutes * 60.0)


@app.command("clv")
def clv(
    horizon_months: int = typer.Option(12, "--horizon-months", min=1, max=120),
    calibration_end: datetime | None = typer.Option(
        None,
        "--calibration-end",
        formats=["%Y-%m-%d"],
        help="Fit on orders up to this day (default: the last order's day).",
    ),
    limit: int = LIMIT,
    as_json: bool = JSON,
) -> None:
    """Lifetime value (BG/NBD + Gamma-Gamma) with a 90 % parameter interval."""
    end = calibration_end.date() if calibration_end else None
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        report = shop.analytics.clv(session, horizon_months, end)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    params = ", ".join(f"{k}={v:.4g}" for k, v in {**report.bgnbd, **report.gamma_gamma}.items())
    console.print(f"fitted {params}; total {report.horizon_months}-month CLV ")
    console.print(f"{report.total_clv:,.2f} over {len(report.customers):,} customers")
    table = Table("customer", "orders after first", "P(alive)", "purchases", "CLV", "interval")
    for c in report.customers[:limit]:
        table.add_row(
            c.customer_id,
            str(c.frequency),
            f"{c.p_alive:.2f}",
            f"{c.expected_purchases:.2f}",
            f"{c.clv:,.2f}",
            f"{c.clv_low:,.2f} – {c.clv_high:,.2f}",
        )
    console.print(table)


KPI_COLUMNS = (
    "sessions",
    "orders",
    "revenue",
    "conversion_rate",
    "aov",
    "revenue_per_visitor",
    "items_per_order",
    "repeat_purchase_rate",
    "email_ctr",
    "return_rate",
    "revenue_change",
)


SHORT = {
    "conversion_rate": "conv.",
    "revenue_per_visitor": "rev/visitor",
    "items_per_order": "items/order",
    "repeat_purchase_rate": "repeat",
    "email_ctr": "e-mail CTR",
    "return_rate": "returns",
    "revenue_change": "revenue Δ",
}


@app.command("kpis")
def kpis(
    grain: str = typer.Option("month", "--grain", help="day, week or month."),
    by: str | None = typer.Option(
        None, "--by", help="channel, device, source, country or segment."
    ),
    start: datetime | None = typer.Option(None, "--start", help="First instant counted."),
    end: datetime | None = typer.Option(None, "--end", help="First instant not counted."),
    as_json: bool = JSON,
    svg: Path | None = SVG,
    metric: str = typer.Option("revenue", "--metric", help="KPI drawn by --svg."),
) -> None:
    """Shop KPIs per period, leading and lagging, with period-over-period change."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        report = shop.analytics.kpis(session, grain, by, start, end)
    if svg is not None:
        svg.write_text(charts.kpi_trend(report, metric))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    console.print(kpi_table(report))


def kpi_table(report: KpiReport) -> Table:
    """KPIs as columns, headed by a short name and its tag (L leading, G lagging)."""
    tags = {d.name: d.tag for d in report.definitions}
    headers = [f"{SHORT.get(c, c)}\n({tags.get(c, 'change')})" for c in KPI_COLUMNS]
    keys = ["period"] if report.by is None else ["period", report.by]
    table = Table(*keys, *headers, title=f"KPIs by {report.grain}")
    for row in report.rows:
        cells = (_fmt(row[c]) for c in KPI_COLUMNS)
        first = [str(row["period"])] + ([] if report.by is None else [str(row["dimension"])])
        table.add_row(*first, *cells)
    return table


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


@app.command("cohorts")
def cohorts(
    max_offset: int | None = typer.Option(None, "--max-offset", min=0, help="Months shown."),
    as_json: bool = JSON,
    svg: Path | None = SVG,
) -> None:
    """Retention by first-order month (share of each cohort ordering k months later)."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        report = shop.analytics.cohorts(session, max_offset)
    if svg is not None:
        svg.write_text(charts.cohort_heatmap(report))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    table = Table("cohort", "size", *(f"+{k}" for k in report.offsets), title="Cohort retention")
    for cohort, size, row in zip(report.cohorts, report.sizes, report.retention, strict=True):
        cells = ("" if v is None else f"{v:.0%}" for v in row)
        table.add_row(f"{cohort:%Y-%m}", f"{size:,}", *cells)
    console.print(table)


@app.command("high-value")
def high_value(
    reference_date: datetime | None = REFERENCE_DATE,
    limit: int = LIMIT,
    offset: int = OFFSET,
    as_json: bool = JSON,
) -> None:
    """High-value customers: RFM spend score 4-5, or Champions / Loyal; highest spend first."""
    day = reference_date.date() if reference_date else None
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        page = shop.analytics.named_list(session, "high-value", day, limit=limit, offset=offset)
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    table = Table("customer", "segment", "M", "spend", title=_title(page, "high-value customers"))
    for c in page.customers:
        table.add_row(c.customer_id, c.segment, str(c.m), f"{c.monetary_total:,.2f}")
    console.print(table)


@app.command("advocates")
def advocates(
    reference_date: datetime | None = REFERENCE_DATE,
    limit: int = LIMIT,
    offset: int = OFFSET,
    as_json: bool = JSON,
) -> None:
    """Advocate candidates: advocacy per visit, weighted by value; highest score first.

    Advocacy is reviews, shares, referrals and social posts; value the RFM spend score.
    """
    day = reference_date.date() if reference_date else None
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        page = shop.analytics.named_list(session, "advocates", day, limit=limit, offset=offset)
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    columns = ("customer", "segment", "M", "spend", "orders", "visits", "actions", "points")
    table = Table(*columns, "score", title=_title(page, "advocate candidates"))
    for c in page.customers:
        table.add_row(
            c.customer_id,
            c.segment or "–",
            str(c.m),
            f"{c.monetary_total:,.2f}",
            str(c.orders),
            str(c.visits),
            str(c.advocacy_actions),
            f"{c.engagement_points:g}",
            f"{c.advocacy_score:.2f}",
        )
    console.print(table)


def _title(page: ValuedList, what: str) -> str:
    shown = (
        f"{page.offset + 1:,}–{page.offset + len(page.customers):,} of " if page.customers else ""
    )
    return f"{what} on {page.reference_date}: {shown}{page.total:,}"
