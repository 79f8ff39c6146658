"""Charts as hand-written SVG: the RFM grid and the cohort heat-map.

A few rectangles and labels need no plotting library; the output is plain SVG 1.1 that any
browser or document renders. Colours run from white (0) to one blue (the maximum).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from shopkeeper.analytics.rfm import SEGMENT_GRID
from shopkeeper.analytics.schemas import CohortReport, RfmReport

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
