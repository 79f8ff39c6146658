"""Prebuilt parts of Segment payloads: pages, devices, stores, money, call builders.

Shared by the walk in :mod:`shopkeeper.simulator.touchpoints`; everything here is either a
constant built once at import or a tiny pure function, so the hot loop only assembles dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shopkeeper.simulator.catalog import LEAVES, SHOP_URL, event_category
from shopkeeper.simulator.personas import PERSONA_NAMES, SOURCES
from shopkeeper.simulator.population import USER_AGENTS, Population

DAY_MS = 86_400_000
VAT_RATE = 0.19  # prices include VAT
FREE_SHIPPING_FROM = 50.0
SHIPPING = 4.95
STORES = (
    ("store-berlin-01", "DE", "Berlin"),
    ("store-hamburg-01", "DE", "Hamburg"),
    ("store-munich-01", "DE", "Munich"),
    ("store-vienna-01", "AT", "Vienna"),
    ("store-amsterdam-01", "NL", "Amsterdam"),
    ("store-paris-01", "FR", "Paris"),
)
SHARE_VIA = ("instagram", "pinterest", "whatsapp", "facebook")
REFERRAL_VIA = ("email", "whatsapp", "link")
REFERRERS = (
    "",
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.instagram.com/",
    "",
    "https://www.modeblog.example/",
)
CAMPAIGNS: tuple[dict[str, str] | None, ...] = (
    None,
    None,
    {"source": "google", "medium": "cpc", "name": "brand-search"},
    {"source": "instagram", "medium": "social", "name": "new-season-looks"},
    None,  # e-mail: the day's campaign
    {"source": "modeblog", "medium": "referral", "name": "partner-blog"},
)
DEVICE_DICTS = {name: {"type": name} for name in ("mobile", "tablet", "desktop")}
USER_AGENT_BY_DEVICE = dict(zip(("mobile", "tablet", "desktop"), USER_AGENTS, strict=True))
ONE_OFF = PERSONA_NAMES.index("one_off")


def _landing(source: int, leaf: int) -> tuple[dict[str, Any], dict[str, str], str]:
    """Page-call properties, ``context.page`` and the page name for a session's first page."""
    ref = REFERRERS[source]
    if SOURCES[source] == "direct":
        path, title = "/", "Home"
    else:
        path, title = f"/c/{LEAVES[leaf]}", event_category(LEAVES[leaf])
    url = SHOP_URL + path
    return (
        {"path": path, "url": url, "title": title, "referrer": ref},
        {"url": url, "referrer": ref},
        title,
    )


LANDINGS = [[_landing(s, leaf) for leaf in range(len(LEAVES))] for s in range(len(SOURCES))]


@dataclass
class DayState:
    """What the walk changes as it goes, and the outcomes the ground truth reports."""

    gone: np.ndarray  # one-off buyers after their purchase
    rate_factor: np.ndarray
    registered: np.ndarray
    logged_in: list[list[bool]]
    store_identified: list[str | None]  # the id the stores last identified the customer by
    orders: np.ndarray
    revenue: np.ndarray
    coupon_orders: np.ndarray
    first_order_day: np.ndarray
    last_active_day: np.ndarray

    @classmethod
    def start(cls, pop: Population, days: int) -> DayState:
        n = len(pop)
        return cls(
            gone=np.zeros(n, dtype=bool),
            rate_factor=np.ones(n),
            registered=pop.registered.copy(),
            logged_in=[[False] * len(ids) for ids in pop.anonymous_ids],
            store_identified=[None] * n,
            orders=np.zeros(n, dtype=np.int64),
            revenue=np.zeros(n),
            coupon_orders=np.zeros(n, dtype=np.int64),
            first_order_day=np.full(n, -1, dtype=np.int64),
            last_active_day=np.full(n, -1, dtype=np.int64),
        )


def track(event: str, anon: str | None, uid: str | None, props: Any, ctx: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"type": "track", "event": event, "messageId": "", "timestamp": ""}
    if anon:
        d["anonymousId"] = anon
    if uid:
        d["userId"] = uid
    d["properties"] = props
    d["context"] = ctx
    return d


def identify(anon: str | None, uid: str, traits: Any, ctx: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"type": "identify", "messageId": "", "timestamp": ""}
    if anon:
        d["anonymousId"] = anon
    d["userId"] = uid
    d["traits"] = traits
    d["context"] = ctx
    return d


def money(lines: list[dict[str, Any]], rate: float) -> dict[str, float]:
    """Order amounts as Segment names them; prices include VAT, ``revenue`` excludes it and
    shipping, ``total`` is what the customer paid."""
    gross = sum(line["price"] * line["quantity"] for line in lines)
    discount = round(gross * rate, 2)
    subtotal = round(gross - discount, 2)
    shipping = 0.0 if subtotal >= FREE_SHIPPING_FROM else SHIPPING
    tax = round(subtotal * VAT_RATE / (1 + VAT_RATE), 2)
    return {
        "total": round(subtotal + shipping, 2),
        "revenue": round(subtotal - tax, 2),
        "subtotal": subtotal,
        "shipping": shipping,
        "tax": tax,
        "discount": discount,
    }


def coupon_for(source: int, coupon_factor: float, first_order: bool) -> tuple[str, float]:
    if coupon_factor > 1.2:
        return "SALE20", 0.20
    if SOURCES[source] == "email":
        return "NEWS15", 0.15
    if first_order:
        return "WELCOME10", 0.10
    return "SAVE10", 0.10
