"""Persona cards: traits from standardised differences, names from the rule table."""

from __future__ import annotations

import numpy as np
import pytest

from shopkeeper.personas.cards import (
    FALLBACK_NAME,
    assign_names,
    describe_clusters,
    fmt,
    standardized_differences,
)
from shopkeeper.personas.features import FEATURES, all_features

FEATURES_WITH_KIDS = all_features(("kids", "women"))
NAMES = [f.name for f in FEATURES_WITH_KIDS]


def population(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Three planted groups: coupon users on mobile, kids shoppers, and the rest."""
    n = 300
    x = np.zeros((n, len(NAMES)))
    col = {name: j for j, name in enumerate(NAMES)}
    labels = np.repeat([0, 1, 2], 100)
    x[:, col["orders"]] = rng.poisson(3, n) + 1
    x[:, col["aov"]] = rng.normal(50, 5, n)
    x[:, col["revenue"]] = x[:, col["orders"]] * x[:, col["aov"]]
    x[:, col["sessions"]] = 10 + rng.poisson(5, n)
    x[:, col["coupon_share"]] = np.where(labels == 0, 0.71, 0.05) + rng.normal(0, 0.02, n)
    x[:, col["mobile_share"]] = np.where(labels == 0, 0.8, 0.3) + rng.normal(0, 0.05, n)
    x[:, col["aov"]] = np.where(labels == 0, 34.0, x[:, col["aov"]])
    x[:, col["category.kids"]] = np.where(labels == 1, 0.6, 0.05) + rng.normal(0, 0.02, n)
    x[:, col["category.women"]] = rng.uniform(0, 0.3, n)
    return x, labels


def test_standardized_difference_known_answer() -> None:
    x = np.array([[0.0], [0.0], [2.0], [2.0]])  # mean 1, sd 1
    d = standardized_differences(x, np.array([0, 0, 1, 1]), 2)
    assert d.tolist() == [[-1.0], [1.0]]


def test_cards_name_the_defining_behaviour_with_numbers() -> None:
    x, labels = population(np.random.default_rng(0))
    cards = describe_clusters(x, labels, 3, FEATURES_WITH_KIDS, currency="€")
    deal, parents, rest = cards
    assert deal.name == "Deal seekers"
    assert deal.text.startswith("Deal seekers — 33% of customers, ")
    assert "71% of their orders use a coupon" in deal.text
    assert "mostly mobile (80%)" in deal.text
    assert "AOV €34" in deal.text
    assert deal.traits[0].feature in {"coupon_share", "aov"}
    assert parents.name == "Parents shopping for kids"
    assert "60% of their interest in kids" in parents.text
    assert rest.name == FALLBACK_NAME
    assert sum(c.size for c in cards) == 300
    assert sum(c.revenue_share for c in cards) == pytest.approx(1.0)


def test_per_order_measures_of_customers_without_orders_are_left_out() -> None:
    """Half the deal seekers never ordered: their AOV and coupon share are undefined, not 0."""
    x, labels = population(np.random.default_rng(0))
    col = {name: j for j, name in enumerate(NAMES)}
    browsers = (labels == 0) & (np.arange(len(x)) % 2 == 0)
    for name in ("orders", "revenue", "aov", "coupon_share"):
        x[browsers, col[name]] = 0.0
    deal = describe_clusters(x, labels, 3, FEATURES_WITH_KIDS, currency="€")[0]
    assert deal.means["aov"] == pytest.approx(34.0)
    assert deal.means["coupon_share"] == pytest.approx(0.71, abs=0.01)
    assert "AOV €34" in deal.text
    assert deal.means["orders"] == pytest.approx(x[labels == 0, col["orders"]].mean())


def test_names_are_unique_and_rules_go_in_order() -> None:
    names = ["coupon_share", "budget_share", "premium_share", "orders"]
    d = np.array(
        [
            [1.5, 2.5, -1.0, 0.0],  # coupons and budget: the more specific rule (coupons) wins
            [1.0, 0.0, 0.0, 0.0],  # also coupons, but weaker: not a second "Deal seekers"
            [0.0, 0.0, 2.0, 1.0],  # premium and frequent
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.1, 0.0],
        ]
    )
    assert assign_names(d, names) == [
        "Deal seekers",
        FALLBACK_NAME,
        "Premium loyalists",
        f"{FALLBACK_NAME} 2",
        f"{FALLBACK_NAME} 3",
    ]


def test_every_feature_phrase_formats() -> None:
    for f in FEATURES:
        assert "{v}" in f.high or f.unit == "share"
        f.high.format(v=fmt(1.0, f.unit, "€"))
        f.low.format(v=fmt(1.0, f.unit, "€"))
    assert fmt(0.713, "share", "€") == "71%"
    assert fmt(34.4, "money", "€") == "€34"
    assert fmt(12.0, "days", "") == "12 days"
    assert fmt(4.25, "ratio", "") == "4.2"
