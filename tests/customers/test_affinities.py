"""Affinities: known answers computed by hand (pure: no store)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from shopkeeper.customers.affinities import (
    AffinityConfig,
    Interaction,
    compute_affinities,
    decay,
)

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def check(actual: list[tuple[str, float]], expected: list[tuple[str, float]]) -> None:
    assert [name for name, _ in actual] == [name for name, _ in expected]
    assert [share for _, share in actual] == pytest.approx([share for _, share in expected])


def test_decay_halves_every_half_life() -> None:
    assert decay(0, 30) == 1.0
    assert decay(30, 30) == pytest.approx(0.5)
    assert decay(60, 30) == pytest.approx(0.25)
    assert decay(-5, 30) == 1.0  # clock skew: the future counts as today


def test_known_answer() -> None:
    dress = {"category_path": "women/dresses", "brand": "Acme", "price_tier": "mid"}
    shoes = {"category_path": "women/shoes", "brand": "Bolt", "price_tier": "premium"}
    shirt = {"category_path": "men/shirts", "brand": "Acme", "price_tier": "budget"}
    interactions = [
        Interaction(at=days_ago(0), action="purchase", **dress),  # 5 × 1    = 5
        Interaction(at=days_ago(30), action="view", **shoes),  # 1 × 0.5  = 0.5
        Interaction(at=days_ago(60), action="cart", **shirt),  # 3 × 0.25 = 0.75
        Interaction(at=days_ago(0), action="view"),  # unknown product: counts nowhere
    ]
    result = compute_affinities(interactions, NOW)
    total = 5 + 0.5 + 0.75  # 6.25

    check(result.categories, [("women", 5.5 / total), ("men", 0.75 / total)])
    check(
        result.category_paths, [("women/dresses", 0.8), ("men/shirts", 0.12), ("women/shoes", 0.08)]
    )
    check(result.brands, [("Acme", 0.92), ("Bolt", 0.08)])
    check(result.price_tiers, [("mid", 0.8), ("budget", 0.12), ("premium", 0.08)])
    assert sum(share for _, share in result.brands) == pytest.approx(1.0)


def test_top_keeps_five_shares_of_the_whole() -> None:
    interactions = [Interaction(at=NOW, action="view", brand=f"b{i}") for i in range(7)] + [
        Interaction(at=NOW, action="purchase", brand="b9")
    ]
    brands = compute_affinities(interactions, NOW).brands
    assert len(brands) == 5
    assert brands[0][0] == "b9"
    assert brands[0][1] == pytest.approx(5 / 12)
    # Ties ordered by name; shares stay shares of all twelve points.
    assert [b for b, _ in brands[1:]] == ["b0", "b1", "b2", "b3"]
    assert brands[1][1] == pytest.approx(1 / 12)


def test_config_changes_weights_and_half_life() -> None:
    config = AffinityConfig(half_life_days=10, view_weight=2, top=1)
    interactions = [
        Interaction(at=days_ago(10), action="view", brand="old"),  # 2 × 0.5 = 1
        Interaction(at=days_ago(0), action="cart", brand="new"),  # 3
    ]
    check(compute_affinities(interactions, NOW, config).brands, [("new", 0.75)])


def test_nothing_in_nothing_out() -> None:
    result = compute_affinities([], NOW)
    assert result.brands == result.categories == result.category_paths == []
    assert result.price_tiers == []


def test_decay_matches_the_stated_formula() -> None:
    assert decay(12.5, 30) == pytest.approx(math.exp(-12.5 / 30 * math.log(2)))
