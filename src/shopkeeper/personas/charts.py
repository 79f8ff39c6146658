"""The persona map as SVG: each persona a bubble at (share of customers, revenue per customer).

Bubble area is the persona's share of revenue, so a small group of big spenders and a crowd
of bargain hunters read at a glance. Built from the same drawing helpers as the analytics
charts (plain SVG 1.1, no plotting library).
"""

from __future__ import annotations

import math

from shopkeeper.analytics.charts import MARGIN, PALETTE, PLOT_H, PLOT_W, _svg, _text
from shopkeeper.personas.schemas import PersonaModelOut


def persona_map(model: PersonaModelOut) -> str:
    """Share of customers (x) against revenue per customer (y), area = revenue share."""
    personas = model.personas
    top_x = max((p.share for p in personas), default=1.0) * 1.15 or 1.0
    top_y = max((p.revenue_per_customer for p in personas), default=1.0) * 1.15 or 1.0
    x0, y0 = MARGIN, 40

    def x(v: float) -> float:
        return x0 + PLOT_W * v / top_x

    def y(v: float) -> float:
        return y0 + PLOT_H * (1 - v / top_y)

    parts = [
        _text(x0, 20, f"Personas (model {model.id}, {model.method}, k={model.k})", anchor="start"),
        f'<rect x="{x0}" y="{y0}" width="{PLOT_W}" height="{PLOT_H}" fill="none" stroke="#ccc"/>',
        _text(x0 + PLOT_W / 2, y0 + PLOT_H + 26, "share of customers"),
        _text(x0 - 8, y0 + 4, f"{top_y:,.0f}", anchor="end"),
        _text(x0 - 8, y0 + PLOT_H + 4, "0", anchor="end"),
        _text(x0 + PLOT_W, y0 + PLOT_H + 14, f"{top_x:.0%}", anchor="end"),
        _text(x0 - 8, y0 + PLOT_H / 2, "revenue per customer", anchor="end"),
    ]
    for n, p in enumerate(personas):
        colour = PALETTE[n % len(PALETTE)]
        radius = 6 + 40 * math.sqrt(max(p.revenue_share, 0.0))
        cx, cy = x(p.share), y(p.revenue_per_customer)
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}" fill="{colour}" '
            'fill-opacity="0.45" stroke="#333"/>'
        )
        parts.append(_text(cx, cy - radius - 4, p.name))
    return _svg(x0 + PLOT_W + 40, y0 + PLOT_H + 40, parts, "Persona map")
