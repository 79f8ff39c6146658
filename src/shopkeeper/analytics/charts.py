"""Charts as hand-written SVG: the RFM grid, KPI trends and the cohort heat-map.

A few rectangles and labels need no plotting library; the output is plain SVG 1.1 that any
browser or document renders. Colours run from white (0) to one blue (the maximum).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from shopkeeper.analytics.rfm import SEGMENT_GRID
from shopkeeper.analytics.schemas import CohortReport, KpiReport, RfmReport
from shopkeeper.errors import Invalid

CELL = 56
MARGIN = 90
FONT = 'font-family="sans-serif" font-size="11"'


def _shade(share: float) -> str:
    """White to #1f5fa8 as ``share`` goes 0 → 1."""
    share = min(max(share, 0.0), 1.0)
    r, g, b = (round(255 - (255 - c) * share) for c in (0x1F, 0x5F, 0xA8))
    return f"#{r:02x}{g:02x}{b:02x}"


def _text(x: float, y: float, label: str, *, anchor: str = "middle", fill: str = "#222") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {FONT}>'
        f"{escape(label)}</text>"
    )


def _svg(width: int, height: int, parts: list[str], title: str) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
    )
    return "\n".join([head, f"<title>{escape(title)}</title>", *parts, "</svg>\n"])


def _cell(x: float, y: float, share: float, label: str, note: str = "") -> list[str]:
    fill = "#fff" if share > 0.55 else "#222"
    parts = [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{CELL}" height="{CELL}" '
        f'fill="{_shade(share)}" stroke="#ccc"/>',
        _text(x + CELL / 2, y + CELL / 2 + 4, label, fill=fill),
    ]
    if note:
        parts.append(_text(x + CELL / 2, y + CELL - 6, note, fill=fill))
    return parts


def rfm_grid(report: RfmReport) -> str:
    """Customers per (R, F) cell, R = 5 on top, each cell labelled with its count and segment."""
    top = max((n for row in report.grid for n in row), default=0) or 1
    parts = [_text(MARGIN, 20, f"RFM grid on {report.reference_date}", anchor="start")]
    for r in range(5, 0, -1):
        y = 30 + (5 - r) * CELL
        parts.append(_text(MARGIN - 10, y + CELL / 2 + 4, f"R={r}", anchor="end"))
        for f in range(1, 6):
            count = report.grid[r - 1][f - 1]
            short = "".join(w[0] for w in str(SEGMENT_GRID[r - 1][f - 1]).split())
            parts += _cell(MARGIN + (f - 1) * CELL, y, count / top, f"{count:,}", short)
    for f in range(1, 6):
        parts.append(_text(MARGIN + (f - 0.5) * CELL, 30 + 5 * CELL + 16, f"F={f}"))
    return _svg(MARGIN + 5 * CELL + 20, 30 + 5 * CELL + 30, parts, "RFM grid")


def cohort_heatmap(report: CohortReport) -> str:
    """Retention share per cohort (rows) and month offset (columns)."""
    parts = [_text(MARGIN, 20, "Cohort retention by first-order month", anchor="start")]
    for i, (cohort, size, row) in enumerate(
        zip(report.cohorts, report.sizes, report.retention, strict=True)
    ):
        y = 30 + i * CELL
        parts.append(_text(MARGIN - 10, y + CELL / 2, f"{cohort:%Y-%m}", anchor="end"))
        parts.append(_text(MARGIN - 10, y + CELL / 2 + 14, f"n={size:,}", anchor="end"))
        for k, value in enumerate(row):
            if value is not None:
                parts += _cell(MARGIN + k * CELL, y, value, f"{value:.0%}")
    bottom = 30 + len(report.cohorts) * CELL
    for k in report.offsets:
        parts.append(_text(MARGIN + (k + 0.5) * CELL, bottom + 16, f"+{k}"))
    width = MARGIN + max(len(report.offsets), 1) * CELL + 20
    return _svg(width, bottom + 30, parts, "Cohort retention")


PALETTE = ("#1f5fa8", "#d9534f", "#3c9d5d", "#e8a33d", "#7b5ea7", "#5bc0de", "#8c6d31")
PLOT_W, PLOT_H = 560, 240


def kpi_trend(report: KpiReport, metric: str) -> str:
    """One line per dimension value of ``metric`` over the periods (nulls leave gaps)."""
    if metric not in report.columns:
        raise Invalid(f"no KPI named {metric!r}", detail={"field": "metric"})
    periods = sorted({str(row["period"]) for row in report.rows})
    series: dict[str, dict[str, float]] = {}
    for row in report.rows:
        value = row[metric]
        if isinstance(value, int | float):
            series.setdefault(str(row["dimension"]), {})[str(row["period"])] = float(value)
    values = [v for points in series.values() for v in points.values()]
    low, high = min(values, default=0.0), max(values, default=1.0)
    low, high = min(low, 0.0), high if high > low else low + 1
    x0, y0 = MARGIN, 40

    def x(i: int) -> float:
        return x0 + (PLOT_W * i / max(len(periods) - 1, 1))

    def y(v: float) -> float:
        return y0 + PLOT_H * (1 - (v - low) / (high - low))

    parts = [_text(x0, 20, f"{metric} by {report.grain}", anchor="start")]
    parts.append(
        f'<rect x="{x0}" y="{y0}" width="{PLOT_W}" height="{PLOT_H}" fill="none" stroke="#ccc"/>'
    )
    parts.append(_text(x0 - 6, y0 + 4, f"{high:,.4g}", anchor="end"))
    parts.append(_text(x0 - 6, y0 + PLOT_H + 4, f"{low:,.4g}", anchor="end"))
    for i in sorted({0, len(periods) - 1}):
        if periods:
            parts.append(_text(x(i), y0 + PLOT_H + 16, periods[i]))
    for n, (name, points) in enumerate(sorted(series.items())):
        colour = PALETTE[n % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, period in enumerate(periods):
            if period in points:
                runs[-1].append(f"{x(i):.1f},{y(points[period]):.1f}")
            elif runs[-1]:
                runs.append([])
        for run in runs:
            if run:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                    'stroke-width="2"/>'
                )
        parts.append(_text(x0 + PLOT_W + 8, y0 + 12 + 14 * n, name, anchor="start", fill=colour))
    return _svg(x0 + PLOT_W + 120, y0 + PLOT_H + 30, parts, f"{metric} trend")
