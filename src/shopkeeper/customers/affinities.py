"""Recency-weighted affinities for category, brand and price tier. Pure: no web or DB imports.

Each interaction with a product adds ``action weight × 2^(−age_days / half_life)`` to the
product's top-level category (``women``), full category path (``women/dresses``), brand and
price tier. Scores are then divided by their dimension's total, so each dimension reads as
shares of the customer's interest; the top ``top`` shares are kept (the kept shares sum to 1
only when the dimension has no more than ``top`` values).

Known answer (half-life 30 days): a purchase today (5) and a view 30 days ago (1 × 0.5) of two
brands give shares 5/5.5 ≈ 0.909 and 0.5/5.5 ≈ 0.091.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Action = Literal["view", "cart", "purchase"]


@dataclass(frozen=True, slots=True)
class AffinityConfig:
    """Weights and decay. ``half_life_days``: an interaction this old counts half."""

    half_life_days: float = 30.0
    view_weight: float = 1.0
    cart_weight: float = 3.0
    purchase_weight: float = 5.0
    top: int = 5

    def weight(self, action: Action) -> float:
        return {
            "view": self.view_weight,
            "cart": self.cart_weight,
            "purchase": self.purchase_weight,
        }[action]


@dataclass(frozen=True, slots=True)
class Interaction:
    """One view, cart add or purchased order line, with the product's catalog attributes."""

    at: datetime
    action: Action
    category_path: str | None = None
    brand: str | None = None
    price_tier: str | None = None


@dataclass(frozen=True, slots=True)
class Affinities:
    """Top shares per dimension, highest first (ties by name), as ``(value, share)`` pairs."""

    categories: list[tuple[str, float]] = field(default_factory=list)
    category_paths: list[tuple[str, float]] = field(default_factory=list)
    brands: list[tuple[str, float]] = field(default_factory=list)
    price_tiers: list[tuple[str, float]] = field(default_factory=list)


def decay(age_days: float, half_life_days: float) -> float:
    """``exp(−age/half_life · ln 2)``; events from the future (clock skew) count as today."""
    return math.exp(-max(age_days, 0.0) / half_life_days * math.log(2))


def compute_affinities(
    interactions: Iterable[Interaction], now: datetime, config: AffinityConfig = AffinityConfig()
) -> Affinities:
    """Shares of interest per category, category path, brand and price tier (see module doc)."""
    scores: dict[str, dict[str, float]] = {
        "categories": {},
        "category_paths": {},
        "brands": {},
        "price_tiers": {},
    }
    for item in interactions:
        age_days = (now - item.at).total_seconds() / 86400
        score = config.weight(item.action) * decay(age_days, config.half_life_days)
        path = (item.category_path or "").strip("/")
        keys = {
            "categories": path.split("/")[0] if path else None,
            "category_paths": path or None,
            "brands": item.brand,
            "price_tiers": item.price_tier,
        }
        for dimension, key in keys.items():
            if key:
                bucket = scores[dimension]
                bucket[key] = bucket.get(key, 0.0) + score
    return Affinities(**{dim: _top_shares(values, config.top) for dim, values in scores.items()})


def _top_shares(values: dict[str, float], top: int) -> list[tuple[str, float]]:
    total = sum(values.values())
    if total <= 0:
        return []
    ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [(key, score / total) for key, score in ranked]
