"""Business rules on hand-made candidates (pure: no store)."""

from __future__ import annotations

import pytest

from shopkeeper.errors import Invalid
from shopkeeper.recommendations.rules import Candidate, RuleConfig, RuleContext, apply_rules


def cand(sku: str, score: float, category: str = "c", brand: str = "b", **kw: object) -> Candidate:
    return Candidate(sku, score, "r", category=category, brand=brand, **kw)  # type: ignore[arg-type]


def skus(items: list[Candidate]) -> list[str]:
    return [c.sku for c in items]


def test_never_the_viewed_product_nor_cart_items_nor_excluded_ones() -> None:
    pool = [cand("a", 5), cand("b", 4), cand("c", 3), cand("d", 2, category="garden/tools")]
    config = RuleConfig(excluded_items=frozenset({"c"}), excluded_categories=("garden",))
    context = RuleContext(viewing="a", cart=frozenset({"b"}))
    assert skus(apply_rules(pool, config, context, k=10)) == []
    assert skus(apply_rules(pool, RuleConfig(), RuleContext(viewing="a"), k=10)) == ["b", "c", "d"]


def test_excluded_category_covers_its_subtree_only() -> None:
    pool = [cand("a", 2, category="garden/tools"), cand("b", 1, category="gardening")]
    assert skus(
        apply_rules(pool, RuleConfig(excluded_categories=("garden",)), RuleContext(), k=5)
    ) == ["b"]


def test_out_of_stock_dropped_unless_the_rule_is_off() -> None:
    pool = [cand("a", 2, in_stock=False), cand("b", 1)]
    assert skus(apply_rules(pool, RuleConfig(), RuleContext(), k=5)) == ["b"]
    assert skus(apply_rules(pool, RuleConfig(in_stock_only=False), RuleContext(), k=5)) == [
        "a",
        "b",
    ]


def test_already_bought_dropped_except_consumables_and_when_off() -> None:
    pool = [cand("a", 3), cand("tea", 2, consumable=True), cand("c", 1)]
    context = RuleContext(bought=frozenset({"a", "tea"}))
    assert skus(apply_rules(pool, RuleConfig(), context, k=5)) == ["tea", "c"]
    off = RuleConfig(exclude_bought=False)
    assert skus(apply_rules(pool, off, context, k=5)) == ["a", "tea", "c"]


def test_diversity_caps_category_and_brand() -> None:
    pool = [
        cand("a1", 9, category="tea", brand="x"),
        cand("a2", 8, category="tea", brand="y"),
        cand("a3", 7, category="tea", brand="z"),
        cand("b1", 6, category="mugs", brand="x"),
        cand("b2", 5, category="mugs", brand="x"),
    ]
    by_category = RuleConfig(max_per_category=2)
    assert skus(apply_rules(pool, by_category, RuleContext(), k=10)) == ["a1", "a2", "b1", "b2"]
    by_brand = RuleConfig(max_per_brand=1)
    assert skus(apply_rules(pool, by_brand, RuleContext(), k=10)) == ["a1", "a2", "a3"]


def test_pinned_first_and_boosts_reorder() -> None:
    pool = [cand("a", 3), cand("b", 2), cand("c", 1)]
    config = RuleConfig(pinned=("p", "gone"), boosted={"c": 10.0, "a": 0.1})
    out = apply_rules(pool, config, RuleContext(), k=3, pinned=[cand("p", 0)])
    assert skus(out) == ["p", "c", "b"]
    assert out[0].reason == "featured"
    # a pinned item still obeys exclusions and stock
    sold_out = apply_rules(pool, config, RuleContext(), k=3, pinned=[cand("p", 0, in_stock=False)])
    assert skus(sold_out) == ["c", "b", "a"]


def test_k_and_ties_are_deterministic() -> None:
    pool = [cand("b", 1), cand("a", 1), cand("c", 1)]
    assert skus(apply_rules(pool, RuleConfig(), RuleContext(), k=2)) == ["a", "b"]


def test_config_is_validated() -> None:
    with pytest.raises(Invalid) as error:
        RuleConfig(max_per_brand=0)
    assert error.value.detail == {"field": "max_per_brand"}
