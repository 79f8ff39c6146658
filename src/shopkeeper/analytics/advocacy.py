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
2. **engagement** = points / (visits + :data:`PRIOR_VISITS`) is high *for how much the customer
   deals with the shop*. Visits (web sessions with a page or screen view, and store visits) are
   the denominator, not orders: people share what they browse and post or refer whether or not
   they buy, so per order every heavy browser who rarely buys looked like an advocate after a
   couple of shares, while someone who visits 300 times and shares 3 things is less of an
   advocate than someone who visits 10 times and shares 3. Posts and referrals need no visit,
   so a customer who talks about the shop every month but seldom comes by scores highest. The 5
   pseudo-visits keep a customer seen once or twice from reaching a high rate on one burst;
3. the **advocacy score** = engagement × (0.5 + 0.1 × M), with M the RFM spend score 1–5
   (0 with no order), is at least :data:`MIN_SCORE`. Value raises the score but is not a gate:
   a top spender (factor 1.0) needs 0.4 points per (visit + 5), someone who never ordered
   (factor 0.5) 0.8 — a heavy sharer who spends little still qualifies, a big spender who once
   left a review does not.

:func:`shopkeeper.analytics.summary.advocacy_activity` counts the inputs from the events
table (an Ibis expression); :func:`score` is the numpy maths. The service lists only customers
it can reach (a userId or an e-mail): an anonymous device's shares count once it is identified,
but a list for an ambassador invitation has no use for a visitor nobody can contact.

Measured on the shop simulator (planted influencers; the labels are only used to score, never
to fit): see ``tests/analytics/test_simulated.py`` and the README for the figures.
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
PRIOR_VISITS = 5.0
MIN_SCORE = 0.4

VISIT_KINDS = ("page_viewed", "screen_viewed", "store_visited")
"""Event kinds that mark a visit: a web session's page or screen view, a store visit."""


@dataclass(frozen=True)
class Advocacy:
    """Per-customer advocacy figures, aligned with the inputs."""

    actions: NDArray[np.int64]
    points: FloatArray
    engagement: FloatArray
    score: FloatArray
    candidate: NDArray[np.bool_]


def score(counts: Mapping[str, object], visits: object, monetary_score: object) -> Advocacy:
    """Advocacy of every customer from their event counts, visits and RFM M score.

    Args:
        counts: event kind -> per-customer counts (kinds outside :data:`POINTS` are ignored;
            missing kinds count zero).
        visits: visits per customer (web sessions and store visits).
        monetary_score: RFM M score 1–5 per customer, 0 for customers without an order.
    """
    n_visits = np.asarray(visits, dtype=np.float64)
    m = np.asarray(monetary_score, dtype=np.float64)
    if n_visits.ndim != 1 or m.shape != n_visits.shape:
        raise Invalid(
            "visits and monetary_score need one value per customer", detail={"field": "visits"}
        )
    if np.any(n_visits < 0) or np.any((m < 0) | (m > 5)):
        raise Invalid("visits must be >= 0 and M scores 0–5", detail={"field": "monetary_score"})
    actions = np.zeros(n_visits.size, dtype=np.int64)
    points = np.zeros(n_visits.size)
    for kind, weight in POINTS.items():
        if kind not in counts:
            continue
        c = np.asarray(counts[kind], dtype=np.int64)
        if c.shape != n_visits.shape or np.any(c < 0):
            raise Invalid(
                f"counts of {kind} need one value >= 0 per customer", detail={"field": kind}
            )
        actions += c
        points += weight * c
    engagement = points / (n_visits + PRIOR_VISITS)
    advocacy_score = engagement * (0.5 + 0.1 * m)
    candidate = (actions >= MIN_ACTIONS) & (points >= MIN_POINTS) & (advocacy_score >= MIN_SCORE)
    return Advocacy(actions, points, engagement, advocacy_score, candidate)
