"""Vectorised planning of one simulated day: calendar effects, sessions, funnels, store visits.

Every random number of a day is drawn here, in a few numpy calls over all sessions at once; the
orchestrator (:mod:`shopkeeper.simulator.shop`) then only walks the plan and builds event dicts.
That split is what keeps the generator above 100,000 events/s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from shopkeeper.simulator.catalog import CATEGORIES, LEAVES, TIERS, Catalog, pick_new_bias
from shopkeeper.simulator.personas import (
    BROWSE_SHARE,
    INFLUENCER_BROWSE_SHARE,
    INFLUENCER_POST_RATE,
    INFLUENCER_REFERRAL_RATE,
    INFLUENCER_REVIEW_FACTOR,
    INFLUENCER_SHARE_FACTOR,
    REFERRAL_RATE,
    PersonaTable,
    draw_cdf,
)
from shopkeeper.simulator.population import Population

WEEKDAY_TRAFFIC = (1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 1.25)  # Monday .. Sunday
NEWSLETTER_WEEKDAY = 3  # Thursday
NEW_ARRIVAL_PULL = 0.2  # share of views drawn from the newest products (planted effect)
SESSION_LEAF_STICKINESS = 0.6  # share of a session's views in its main category
SEARCH_PROPS = [[{"query": q} for q in CATEGORIES[leaf][3]] for leaf in LEAVES]


@dataclass(frozen=True)
class Calendar:
    """Per-day multipliers and campaigns; ``effects`` describes them for the ground truth."""

    traffic: np.ndarray
    conversion: np.ndarray
    coupon: np.ndarray
    gift_season: np.ndarray
    campaigns: list[str | None]
    effects: list[dict[str, Any]]


def _window(start: date, days: int, first: date, last: date) -> np.ndarray:
    """Boolean mask of simulated days within [first, last], repeated for every year covered."""
    mask = np.zeros(days, dtype=bool)
    for year in range(start.year, (start + timedelta(days=days)).year + 1):
        a = (first.replace(year=year) - start).days
        b = (last.replace(year=year) - start).days
        if b >= 0 and a < days:
            mask[max(a, 0) : min(b, days - 1) + 1] = True
    return mask


def black_friday(year: int) -> date:
    """The fourth Friday of November."""
    first = date(year, 11, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 21)


def build_calendar(start: date, days: int) -> Calendar:
    """Weekly rhythm, sales peaks and lulls, the gift season, and e-mail campaign days."""
    dates = [start + timedelta(days=d) for d in range(days)]
    traffic = np.array([WEEKDAY_TRAFFIC[x.weekday()] for x in dates])
    conversion = np.ones(days)
    coupon = np.ones(days)
    campaigns: list[str | None] = [
        f"newsletter-{x.isoformat()}" if x.weekday() == NEWSLETTER_WEEKDAY else None for x in dates
    ]
    effects: list[dict[str, Any]] = [
        {"name": "weekly_rhythm", "traffic_by_weekday": list(WEEKDAY_TRAFFIC)},
        {"name": "newsletter", "weekday": NEWSLETTER_WEEKDAY, "channel": "email"},
        {"name": "new_arrivals", "view_share_to_newest_tenth": NEW_ARRIVAL_PULL},
        {
            "name": "influencers",
            "review_factor": INFLUENCER_REVIEW_FACTOR,
            "share_factor": INFLUENCER_SHARE_FACTOR,
            "browse_share": INFLUENCER_BROWSE_SHARE,
            "posts_per_day": INFLUENCER_POST_RATE,
            "referrals_per_day": INFLUENCER_REFERRAL_RATE,
        },
        {"name": "frequency", "distribution": "gamma", "mean": 1.0, "per": "customer"},
    ]

    def plant(name: str, first: date, last: date, t: float, c: float, k: float) -> None:
        mask = _window(start, days, first, last)
        if mask.any():
            traffic[mask] *= t
            conversion[mask] *= c
            coupon[mask] *= k
            hit = np.flatnonzero(mask)
            effects.append(
                {
                    "name": name,
                    "first": dates[hit[0]].isoformat(),
                    "last": dates[hit[-1]].isoformat(),
                    "traffic": t,
                    "conversion": c,
                    "coupon": k,
                }
            )
            campaigns[hit[0]] = f"{name}-{dates[hit[0]].year}"

    for year in range(start.year, (start + timedelta(days=days)).year + 1):
        bf = black_friday(year)
        plant("black_friday", bf, bf + timedelta(days=3), 2.2, 1.4, 1.6)
        plant("christmas_run_up", date(year, 12, 1), date(year, 12, 20), 1.4, 1.1, 1.0)
        plant("christmas_lull", date(year, 12, 24), date(year, 12, 26), 0.6, 0.8, 1.0)
        plant("january_sale", date(year, 1, 2), date(year, 1, 15), 1.3, 1.2, 1.3)
        plant("summer_sale", date(year, 6, 20), date(year, 7, 10), 1.2, 1.15, 1.3)
        plant("summer_lull", date(year, 8, 1), date(year, 8, 31), 0.85, 1.0, 1.0)
    gift = _window(start, days, date(2000, 11, 15), date(2000, 12, 23))
    effects.append(
        {"name": "gift_season", "first": "11-15", "last": "12-23", "persona": "seasonal_gift_buyer"}
    )
    return Calendar(traffic, conversion, coupon, gift, campaigns, effects)


def draw_products(
    rng: np.random.Generator,
    catalog: Catalog,
    pop: Population,
    day: int,
    cust: np.ndarray,
    leaf_hint: np.ndarray | None = None,
) -> np.ndarray:
    """One product per entry of ``cust``, drawn from that customer's hidden preferences.

    ``leaf_hint`` (one leaf per draw) is the session's main category: a share of draws stays
    in it, so a session looks like someone browsing dresses rather than a random walk.
    """
    n = len(cust)
    leaf = draw_cdf(pop.cat_cdf[cust], rng.random(n))
    if leaf_hint is not None:
        leaf = np.where(rng.random(n) < SESSION_LEAF_STICKINESS, leaf_hint, leaf)
    tier = draw_cdf(pop.tier_cdf[cust], rng.random(n))
    u = pick_new_bias(rng.random(n), rng.random(n) < NEW_ARRIVAL_PULL)
    return catalog.pick(day, leaf, tier, u)


@dataclass
class SessionPlan:
    """One day's web sessions as Python lists (index = session) for a fast walk."""

    cust: list[int]
    start: list[int]  # seconds after midnight UTC
    slot: list[int]  # which of the customer's devices
    source: list[int]
    campaign: list[str | None]
    search: list[int]  # -1 for none, else index into SEARCH_PROPS[leaf]
    leaf: list[int]
    views: list[list[int]]  # product indices viewed, in order
    n_add: list[int]
    n_remove: list[int]
    buy: list[bool]
    coupon: list[bool]
    gap: list[int]  # seconds between consecutive events
    u_login: list[float]
    u_qty: list[float]
    returned: list[bool]
    review: list[bool]
    share: list[bool]
    rating: list[int]
    later: list[int]  # days until review / share / refund
    browse_share: list[bool]  # shares the last product viewed, bought or not


def plan_sessions(
    rng: np.random.Generator,
    *,
    day: int,
    cal: Calendar,
    pop: Population,
    table: PersonaTable,
    catalog: Catalog,
    active: np.ndarray,
    rate_factor: np.ndarray,
    email_cust: np.ndarray,
    email_start: np.ndarray,
    email_campaign: str | None,
) -> SessionPlan:
    """Draw the day's sessions: organic traffic from every active customer's visit rate, plus
    the sessions that e-mail clicks started (``email_*``)."""
    persona = pop.persona
    lam = table.visit_rate[persona] * cal.traffic[day] * rate_factor * pop.frequency
    lam = lam * np.where(cal.gift_season[day], table.gift_season, table.off_season)[persona]
    counts = rng.poisson(np.where(active, lam, 0.0))
    organic = np.repeat(np.arange(len(persona)), counts)
    cust = np.concatenate([organic, email_cust]).astype(np.int64)
    n = len(cust)
    p = persona[cust]
    m = len(organic)
    hour = draw_cdf(table.hour_cdf[p[:m]], rng.random(m))
    start = np.concatenate([hour * 3600 + rng.integers(0, 3600, m), email_start])
    source = draw_cdf(table.source_cdf[p], rng.random(n))
    source[m:] = 4  # e-mail
    slot = (rng.random(n) * pop.n_devices[cust]).astype(np.int64)
    n_views = 1 + rng.poisson(table.views_mean[p])
    leaf = draw_cdf(pop.cat_cdf[cust], rng.random(n))
    search = np.where(rng.random(n) < table.p_search[p], rng.integers(0, 2, n), -1)
    search = np.where(search >= 0, search % np.array([len(s) for s in SEARCH_PROPS])[leaf], -1)
    n_add = np.minimum(rng.binomial(n_views, table.p_add[p]), 4)
    n_remove = np.minimum(rng.binomial(n_add, 0.15), np.maximum(n_add - 1, 0))
    buy = (n_add > 0) & (rng.random(n) < np.minimum(table.p_buy[p] * cal.conversion[day], 0.95))
    coupon = buy & (rng.random(n) < np.minimum(table.p_coupon[p] * cal.coupon[day], 0.95))
    influencer = pop.influencer[cust]
    review = buy & (
        rng.random(n) < table.p_review[p] * np.where(influencer, INFLUENCER_REVIEW_FACTOR, 1.0)
    )
    share = buy & (
        rng.random(n) < table.p_share[p] * np.where(influencer, INFLUENCER_SHARE_FACTOR, 1.0)
    )
    browse_share = rng.random(n) < np.where(influencer, INFLUENCER_BROWSE_SHARE, BROWSE_SHARE)
    view_cust = np.repeat(cust, n_views)
    products = draw_products(rng, catalog, pop, day, view_cust, np.repeat(leaf, n_views))
    offsets = np.concatenate([[0], np.cumsum(n_views)]).tolist()
    flat = products.tolist()
    # Ratings of the last viewed product (always bought when the session buys): loved
    # categories and tiers get better reviews.
    last = products[np.cumsum(n_views) - 1]
    fit = (pop.cat_weights[cust, catalog.leaf[last]] * len(LEAVES)).clip(0, 3) / 3
    fit = fit + pop.tier_weights[cust, catalog.tier[last]] * len(TIERS) / 6
    rating = np.clip(np.round(2.6 + 2.0 * fit + rng.normal(0, 0.7, n)), 1, 5).astype(np.int64)
    campaigns: list[str | None] = [None] * m
    campaigns += [email_campaign] * len(email_cust)
    return SessionPlan(
        cust=cust.tolist(),
        start=start.tolist(),
        slot=slot.tolist(),
        source=source.tolist(),
        campaign=campaigns,
        search=search.tolist(),
        leaf=leaf.tolist(),
        views=[flat[offsets[i] : offsets[i + 1]] for i in range(n)],
        n_add=n_add.tolist(),
        n_remove=n_remove.tolist(),
        buy=buy.tolist(),
        coupon=coupon.tolist(),
        gap=(15 + rng.exponential(45, n)).astype(np.int64).tolist(),
        u_login=rng.random(n).tolist(),
        u_qty=rng.random(n).tolist(),
        returned=(buy & (rng.random(n) < table.p_return[p])).tolist(),
        review=review.tolist(),
        share=share.tolist(),
        rating=rating.tolist(),
        later=rng.integers(3, 15, n).tolist(),
        browse_share=browse_share.tolist(),
    )


@dataclass
class StorePlan:
    """One day's visits to physical stores by loyalty-card holders."""

    cust: list[int]
    start: list[int]
    items: list[list[int]]
    buy: list[bool]
    store: list[int]


def plan_store_visits(
    rng: np.random.Generator,
    *,
    day: int,
    cal: Calendar,
    pop: Population,
    table: PersonaTable,
    catalog: Catalog,
    active: np.ndarray,
) -> StorePlan:
    """Store visits: loyalty-card holders only, opening hours 9-20, mostly a purchase."""
    lam = table.store_rate[pop.persona] * cal.traffic[day] * pop.frequency
    counts = rng.poisson(np.where(active & pop.has_loyalty, lam, 0.0))
    cust = np.repeat(np.arange(len(counts)), counts)
    n = len(cust)
    start = rng.integers(9 * 3600, 20 * 3600, n)
    n_items = 1 + rng.poisson(table.basket_mean[pop.persona[cust]])
    products = draw_products(rng, catalog, pop, day, np.repeat(cust, n_items)).tolist()
    offsets = np.concatenate([[0], np.cumsum(n_items)]).tolist()
    return StorePlan(
        cust=cust.tolist(),
        start=start.tolist(),
        items=[products[offsets[i] : offsets[i + 1]] for i in range(n)],
        buy=(rng.random(n) < 0.75).tolist(),
        store=rng.integers(0, 6, n).tolist(),
    )


@dataclass
class AdvocacyPlan:
    """One day's advocacy away from the site: tagged social posts and referral invitations."""

    cust: list[int]
    start: list[int]  # seconds after midnight UTC
    referral: list[bool]  # else a social post
    product: list[int]  # what a post shows
    u: list[float]  # picks the network or messenger


def plan_advocacy(
    rng: np.random.Generator,
    *,
    day: int,
    pop: Population,
    catalog: Catalog,
    known: np.ndarray,
) -> AdvocacyPlan:
    """Posts and referrals of customers the shop can attribute them to (``known``: has an
    account and a relationship with the shop that day), whether or not they visit or order.

    Influencers post at :data:`INFLUENCER_POST_RATE` and refer at
    :data:`INFLUENCER_REFERRAL_RATE` per day; ordinary customers only refer, rarely.
    """
    post = np.where(known & pop.influencer, INFLUENCER_POST_RATE, 0.0)
    refer = np.where(known, np.where(pop.influencer, INFLUENCER_REFERRAL_RATE, REFERRAL_RATE), 0.0)
    n_post, n_refer = rng.poisson(post), rng.poisson(refer)
    cust = np.concatenate(
        [np.repeat(np.arange(len(post)), n_post), np.repeat(np.arange(len(refer)), n_refer)]
    )
    n = len(cust)
    referral = np.arange(n) >= int(n_post.sum())
    return AdvocacyPlan(
        cust=cust.tolist(),
        start=rng.integers(8 * 3600, 23 * 3600, n).tolist(),
        referral=referral.tolist(),
        product=draw_products(rng, catalog, pop, day, cust).tolist(),
        u=rng.random(n).tolist(),
    )
