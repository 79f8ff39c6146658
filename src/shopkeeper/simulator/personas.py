"""Hidden personas: the behavioural parameters behind every simulated customer.

Personas are ground truth only: they never appear in events, so segmentation and
recommendation work can be scored on how well they recover them. :class:`PersonaTable` turns
the definitions into arrays indexed by persona code for the vectorised generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SOURCES = ("direct", "organic", "paid_search", "social", "email", "referral")
DEVICES = ("mobile", "tablet", "desktop")

#: Hour-of-day activity profiles (relative weights, 24 values each).
HOUR_PROFILES: dict[str, tuple[float, ...]] = {
    # Lunch break and after dinner.
    "daytime": (1, 1, 1, 1, 1, 1, 2, 4, 5, 6, 6, 7, 9, 9, 7, 6, 6, 7, 8, 9, 9, 7, 4, 2),
    # Late evening on the sofa.
    "evening": (2, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 3, 3, 4, 5, 8, 12, 15, 16, 13, 6),
    # Office hours at a desk.
    "office": (1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 11, 11, 10, 10, 11, 10, 9, 8, 6, 6, 5, 4, 2, 1),
}


@dataclass(frozen=True)
class Persona:
    """One persona's parameters (rates are per simulated day or per event opportunity)."""

    name: str
    share: float
    visit_rate: float  # web sessions per day while active
    views_mean: float  # extra product views per session (Poisson)
    p_add: float  # add to cart, per product view
    p_buy: float  # check out, given a non-empty cart
    p_coupon: float  # coupon on an order
    tiers: tuple[float, float, float]  # budget, mid, premium
    hours: str
    devices: tuple[float, float, float]  # mobile, tablet, desktop
    sources: tuple[float, float, float, float, float, float]
    category_boost: dict[str, float] = field(default_factory=dict)  # top level -> factor
    p_search: float = 0.3
    p_return: float = 0.1
    p_review: float = 0.05
    p_share: float = 0.01
    email_open: float = 0.25
    email_click: float = 0.2
    store_rate: float = 0.004  # store visits per day, for loyalty-card holders
    p_loyalty: float = 0.3
    p_registered: float = 0.6  # already has an account when the simulation starts
    basket_mean: float = 0.6  # extra items per order beyond the first (Poisson)
    lifecycle: str = "regular"  # regular | one_off | lapsing
    gift_season: float = 1.0  # visit multiplier from mid-November to 23 December
    off_season: float = 1.0  # visit multiplier the rest of the year


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "deal_seeker",
        0.18,
        0.08,
        2.0,
        0.07,
        0.45,
        0.78,
        (0.72, 0.24, 0.04),
        "evening",
        (0.78, 0.10, 0.12),
        (0.10, 0.10, 0.15, 0.25, 0.30, 0.10),
        p_search=0.5,
        email_open=0.45,
        email_click=0.35,
        p_registered=0.7,
        basket_mean=0.9,
    ),
    Persona(
        "premium_loyalist",
        0.10,
        0.09,
        2.0,
        0.12,
        0.70,
        0.04,
        (0.03, 0.15, 0.82),
        "office",
        (0.15, 0.10, 0.75),
        (0.50, 0.15, 0.10, 0.05, 0.12, 0.08),
        p_return=0.12,
        p_review=0.08,
        store_rate=0.02,
        p_loyalty=0.6,
        p_registered=0.95,
        basket_mean=0.7,
    ),
    Persona(
        "parent",
        0.15,
        0.07,
        3.0,
        0.09,
        0.55,
        0.20,
        (0.35, 0.55, 0.10),
        "daytime",
        (0.60, 0.15, 0.25),
        (0.25, 0.25, 0.15, 0.15, 0.15, 0.05),
        category_boost={"kids": 8.0, "toddler": 8.0, "baby": 8.0},
        p_return=0.15,
        p_review=0.06,
        basket_mean=1.2,
    ),
    Persona(
        "seasonal_gift_buyer",
        0.12,
        0.02,
        2.5,
        0.10,
        0.55,
        0.18,
        (0.25, 0.50, 0.25),
        "daytime",
        (0.45, 0.15, 0.40),
        (0.20, 0.30, 0.25, 0.10, 0.10, 0.05),
        category_boost={"gifts": 8.0, "beauty": 3.0, "home": 2.5},
        p_return=0.08,
        p_registered=0.5,
        gift_season=6.0,
        off_season=0.5,
    ),
    Persona(
        "window_shopper",
        0.20,
        0.09,
        5.0,
        0.03,
        0.10,
        0.10,
        (0.30, 0.40, 0.30),
        "evening",
        (0.70, 0.15, 0.15),
        (0.15, 0.30, 0.10, 0.35, 0.05, 0.05),
        p_search=0.5,
        email_open=0.15,
        email_click=0.1,
        p_registered=0.3,
        basket_mean=0.2,
    ),
    Persona(
        "one_off",
        0.13,
        0.04,
        2.5,
        0.12,
        0.70,
        0.30,
        (0.35, 0.45, 0.20),
        "daytime",
        (0.55, 0.10, 0.35),
        (0.15, 0.35, 0.30, 0.10, 0.00, 0.10),
        p_registered=0.0,
        lifecycle="one_off",
        basket_mean=0.3,
    ),
    Persona(
        "lapsing_regular",
        0.12,
        0.08,
        2.0,
        0.10,
        0.60,
        0.15,
        (0.25, 0.55, 0.20),
        "daytime",
        (0.45, 0.10, 0.45),
        (0.35, 0.20, 0.10, 0.10, 0.20, 0.05),
        store_rate=0.01,
        p_registered=0.9,
        lifecycle="lapsing",
    ),
)
PERSONA_NAMES = tuple(p.name for p in PERSONAS)

#: Individual heterogeneity within a persona: every customer's visit and store-visit rates are
#: the persona's times a Gamma(shape, 1 / shape) multiplier (mean 1), the assumption BG/NBD makes
#: about purchase rates. Shape 1 (an exponential) brings the spread of orders per customer near
#: the real shops' (coefficient of variation 1.5 on CDNOW, 1.8 on Online Retail, 0.9 before;
#: see the README), and with it their concentration of revenue. Spend per order needs no extra
#: multiplier: category and tier preferences already spread it as much as CDNOW's (CV 0.75).
FREQUENCY_SHAPE = 1.0

INFLUENCER_SHARE = 0.04
#: What planted influencers do more of, per purchase: reviews and shares (a share becomes a
#: social post too).
INFLUENCER_REVIEW_FACTOR = 8.0
INFLUENCER_SHARE_FACTOR = 40.0
#: Advocacy that does not wait for an order. Per web session, the chance that the visitor shares a
#: product they look at (to a friend, a board, a story): rare for most people, routine for an
#: influencer, who also posts it to their audience.
BROWSE_SHARE = 0.005
INFLUENCER_BROWSE_SHARE = 0.2
#: Per day of the customer's relationship with the shop (joined, not lapsed), whether or not
#: they visit: posts about the shop that tag it (seen by the shop's social listening as
#: ``Social Shared`` from the customer's account), and referral invitations from the account
#: (the referral programme needs one). An influencer posts about once a month and refers
#: someone about every six weeks; a few per cent of ordinary customers refer anyone in a year.
INFLUENCER_POST_RATE = 1 / 30
INFLUENCER_REFERRAL_RATE = 1 / 45
REFERRAL_RATE = 0.03 / 365


@dataclass(frozen=True)
class PersonaTable:
    """Persona parameters as arrays indexed by persona code (row = persona)."""

    share: np.ndarray
    visit_rate: np.ndarray
    views_mean: np.ndarray
    p_add: np.ndarray
    p_buy: np.ndarray
    p_coupon: np.ndarray
    tiers: np.ndarray
    hour_cdf: np.ndarray
    device_cdf: np.ndarray
    source_cdf: np.ndarray
    p_search: np.ndarray
    p_return: np.ndarray
    p_review: np.ndarray
    p_share: np.ndarray
    email_open: np.ndarray
    email_click: np.ndarray
    store_rate: np.ndarray
    p_loyalty: np.ndarray
    p_registered: np.ndarray
    basket_mean: np.ndarray
    one_off: np.ndarray
    lapsing: np.ndarray
    gift_season: np.ndarray
    off_season: np.ndarray

    @classmethod
    def build(cls, personas: tuple[Persona, ...] = PERSONAS) -> PersonaTable:
        def col(name: str) -> np.ndarray:
            return np.array([getattr(p, name) for p in personas], dtype=np.float64)

        def cdf(rows: list[tuple[float, ...]]) -> np.ndarray:
            a = np.array(rows, dtype=np.float64)
            c = np.cumsum(a / a.sum(axis=1, keepdims=True), axis=1)
            c[:, -1] = 1.0
            return c

        return cls(
            share=col("share") / col("share").sum(),
            visit_rate=col("visit_rate"),
            views_mean=col("views_mean"),
            p_add=col("p_add"),
            p_buy=col("p_buy"),
            p_coupon=col("p_coupon"),
            tiers=np.array([p.tiers for p in personas]),
            hour_cdf=cdf([HOUR_PROFILES[p.hours] for p in personas]),
            device_cdf=cdf([p.devices for p in personas]),
            source_cdf=cdf([p.sources for p in personas]),
            p_search=col("p_search"),
            p_return=col("p_return"),
            p_review=col("p_review"),
            p_share=col("p_share"),
            email_open=col("email_open"),
            email_click=col("email_click"),
            store_rate=col("store_rate"),
            p_loyalty=col("p_loyalty"),
            p_registered=col("p_registered"),
            basket_mean=col("basket_mean"),
            one_off=np.array([p.lifecycle == "one_off" for p in personas]),
            lapsing=np.array([p.lifecycle == "lapsing" for p in personas]),
            gift_season=col("gift_season"),
            off_season=col("off_season"),
        )


def draw_cdf(cdf_rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Categorical draws, one per row: ``u`` uniform, ``cdf_rows`` cumulative weights per draw."""
    return np.asarray((u[:, None] > cdf_rows).sum(axis=1))
