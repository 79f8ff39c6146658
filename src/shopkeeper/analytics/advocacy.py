"""Advocate candidates: customers who bring others to the shop, weighted by what they are worth.

Pure numpy on per-customer counts; :meth:`AnalyticsService.advocates` feeds it from the store.

Engagement points weigh each advocacy action by its reach — how many people who are not yet on
the site it speaks to:

=====================  ======  ===========================================================
event kind             points  why
=====================  ======  ===========================================================
``product_reviewed``   1       read by visitors who are already on the site
``product_shared``     2       sent to a few contacts (message, pin, post)
``cart_shared``        2       the same, for a basket
``referral_sent``      2       a direct invitation to someone new
``social_shared``      3       broadcast to the customer's own audience
=====================  ======  ===========================================================

A customer is an advocate candidate when all three hold:

1. at least :data:`MIN_ACTIONS` (2) actions and :data:`MIN_POINTS` (4) points: one review or
   one share is something many ordinary customers do once; it is not advocacy (*one-off noise*);
2. **engagement** = points / (orders + :data:`PRIOR_ORDERS`) is high *for the orders placed*: a
   regular with 20 orders and 3 reviews engages less than a customer with 2 orders who shared
   both; the 3 pseudo-orders keep customers with few orders from reaching a high rate on the
   strength of one burst;
3. the **advocacy score** = engagement × (0.5 + 0.1 × M), with M the RFM spend score 1–5
   (0 with no order), is at least :data:`MIN_SCORE`. Value raises the score but is not a gate:
   a top spender (factor 1.0) needs 0.4 points per (order + 3), a modest one (M = 1, factor
   0.6) about 0.67 — a heavy sharer who spends little still qualifies, a big spender who once
   left a review does not.

Measured on the shop simulator (planted influencers; the labels are only used to score, never
to fit): see :mod:`tests.analytics.test_advocates` and the README for the figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shopkeeper.errors import Invalid

FloatArray = NDArray[np.float64]

POINTS: Mapping[str, float] = {
    "product_reviewed": 1.0,
    "product_shared": 2.0,
    "cart_shared": 2.0,
    "referral_sent": 2.0,
    "social_shared": 3.0,
}
"""Engagement points per advocacy event kind (see the module docstring)."""

MIN_ACTIONS = 2
MIN_POINTS = 4.0
PRIOR_ORDERS = 3.0
MIN_SCORE = 0.4


@dataclass(frozen=True)
class Advocacy:
    """Per-customer advocacy figures, aligned with the inputs."""

    actions: NDArray[np.int64]
    points: FloatArray
    engagement: FloatArray
    score: FloatArray
    candidate: NDArray[np.bool_]


def score(counts: Mapping[str, object], orders: object, monetary_score: object) -> Advocacy:
    """Advocacy of every customer from their event counts, order counts and RFM M score.

    Args:
        counts: event kind -> per-customer counts (kinds outside :data:`POINTS` are ignored;
            missing kinds count zero).
        orders: counted orders per customer.
        monetary_score: RFM M score 1–5 per customer, 0 for customers without an order.
    """
    n_orders = np.asarray(orders, dtype=np.float64)
    m = np.asarray(monetary_score, dtype=np.float64)
    if n_orders.ndim != 1 or m.shape != n_orders.shape:
        raise Invalid(
            "orders and monetary_score need one value per customer", detail={"field": "orders"}
        )
    if np.any(n_orders < 0) or np.any((m < 0) | (m > 5)):
        raise Invalid("orders must be >= 0 and M scores 0–5", detail={"field": "monetary_score"})
    actions = np.zeros(n_orders.size, dtype=np.int64)
    points = np.zeros(n_orders.size)
    for kind, weight in POINTS.items():
        if kind not in counts:
            continue
        c = np.asarray(counts[kind], dtype=np.int64)
        if c.shape != n_orders.shape or np.any(c < 0):
            raise Invalid(
                f"counts of {kind} need one value >= 0 per customer", detail={"field": kind}
            )
        actions += c
        points += weight * c
    engagement = points / (n_orders + PRIOR_ORDERS)
    advocacy_score = engagement * (0.5 + 0.1 * m)
    candidate = (actions >= MIN_ACTIONS) & (points >= MIN_POINTS) & (advocacy_score >= MIN_SCORE)
    return Advocacy(actions, points, engagement, advocacy_score, candidate)
