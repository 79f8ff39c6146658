"""Segment charts as hand-written SVG: size over time (with entries and exits per evaluation).

Same plain SVG 1.1 style as :mod:`shopkeeper.analytics.charts`, no plotting library.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from shopkeeper.segments.schemas import SegmentDetail

WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 640, 260, 60, 30, 40
FONT = 'font-family="sans-serif" font-size="11"'


def _text(x: float, y: float, label: str, anchor: str = "middle") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT}>{escape(label)}</text>'


def size_history(detail: SegmentDetail) -> str:
    """One bar per evaluation (height: size), green and red ticks for entered and exited."""
    points = detail.history
    top = max((p.size for p in points), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - 20, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points), 1)
    parts = [
        _text(LEFT, 18, f"{detail.name}: size per evaluation (max {top:,})", anchor="start"),
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#888"/>',
        _text(LEFT - 6, TOP + 4, f"{top:,}", anchor="end"),
        _text(LEFT - 6, TOP + plot_h, "0", anchor="end"),
    ]
    for i, p in enumerate(points):
        x = LEFT + i * step
        h = plot_h * p.size / top
        title = (
            f"{p.evaluated_at:%Y-%m-%d %H:%M} v{p.version}: {p.size:,} (+{p.entered} -{p.exited})"
        )
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{TOP + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
            f'height="{h:.1f}" fill="#1f5fa8"><title>{escape(title)}</title></rect>'
        )
        for n, colour, dy in ((p.entered, "#2a9d3a", 8), (p.exited, "#c0392b", 16)):
            if n:
                parts.append(
                    f'<rect x="{x + step * 0.15:.1f}" y="{TOP + plot_h + dy - 6:.1f}" '
                    f'width="{step * 0.7 * min(n / top, 1) + 1:.1f}" height="5" fill="{colour}"/>'
                )
    if points:
        parts.append(_text(LEFT, HEIGHT - 6, f"{points[0].evaluated_at:%Y-%m-%d}", anchor="start"))
        parts.append(
            _text(LEFT + plot_w, HEIGHT - 6, f"{points[-1].evaluated_at:%Y-%m-%d}", anchor="end")
        )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}">'
    )
    return "\n".join([head, f"<title>{escape(detail.name)}</title>", *parts, "</svg>\n"])
