"""Business rules applied to a placement's ranked candidates (pure: no web or database).

The order matters and is fixed: the product being viewed and excluded items/categories go
first (never shown, even if pinned), then out-of-stock items and — unless the item is a
consumable or the rule is off — items the customer already bought; boosts rescale scores;
pinned items go to the top; diversity caps items per category and per brand while filling
the list in score order. The caps are hard: a list may come out shorter than ``k`` rather
than repeat a category the shop asked to limit.

Example::

    >>> config = RuleConfig(max_per_category=1)
    >>> a = Candidate("a", 2.0, "r", category="tea")
    >>> b = Candidate("b", 1.0, "r", category="tea")
    >>> [c.sku for c in apply_rules([a, b], config, RuleContext(), k=1)]
    ['a']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from shopkeeper.errors import Invalid

__all__ = [
    "DEFAULT_RULES",
    "Candidate",
    "RuleConfig",
    "RuleContext",
    "apply_rules",
    "excluded_category",
]


@dataclass(frozen=True)
class Candidate:
    """One item a placement proposes, with what the rules read.

    ``explain``, when set, computes the reason lazily (for the items finally shown only).
    """

    sku: str
    score: float
    reason: str
    title: str | None = None
    category: str | None = None
    brand: str | None = None
    in_stock: bool = True
    consumable: bool = False
    explain: Callable[[], str] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RuleConfig:
    """Per-placement rules.

    Attributes:
        exclude_bought: Drop items the customer bought (never for consumables).
        in_stock_only: Drop items out of stock.
        max_per_category: Most items per top-level category (``None``: no cap).
        max_per_brand: Most items per brand (``None``: no cap).
        pinned: Skus shown first, in this order (when in stock and not excluded).
        boosted: Score multiplier per sku (``>1`` promotes, ``<1`` demotes).
        excluded_items: Skus never shown.
        excluded_categories: Category paths never shown (a path excludes its subtree).
    """

    exclude_bought: bool = True
    in_stock_only: bool = True
    max_per_category: int | None = None
    max_per_brand: int | None = None
    pinned: tuple[str, ...] = ()
    boosted: Mapping[str, float] = field(default_factory=dict)
    excluded_items: frozenset[str] = frozenset()
    excluded_categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("max_per_category", "max_per_brand"):
            cap = getattr(self, name)
            if cap is not None and cap < 1:
                raise Invalid(f"{name} must be at least 1", detail={"field": name})
        if any(weight < 0 for weight in self.boosted.values()):
            raise Invalid("boosts must not be negative", detail={"field": "boosted"})


@dataclass(frozen=True)
class RuleContext:
    """What the request knows: the product on screen, what the customer bought, the cart."""

    viewing: str | None = None
    bought: frozenset[str] = frozenset()
    cart: frozenset[str] = frozenset()


#: Defaults per placement; a shop overrides them through ``RecommendationService(rules=...)``.
DEFAULT_RULES: Mapping[str, RuleConfig] = {
    "for_you": RuleConfig(max_per_category=4, max_per_brand=4),
    "also_bought": RuleConfig(max_per_brand=5),
    "bought_together": RuleConfig(),
    "similar": RuleConfig(exclude_bought=False),
    "trending": RuleConfig(max_per_category=4),
    "recently_viewed": RuleConfig(exclude_bought=False),
    "buy_again": RuleConfig(exclude_bought=False),
    "cart": RuleConfig(max_per_category=4),
}


def excluded_category(category: str | None, excluded: Iterable[str]) -> bool:
    """Whether ``category`` is one of the ``excluded`` paths or below one (case-insensitive)."""
    if not category:
        return False
    path = category.strip("/").lower()
    return any(
        path == ex.strip("/").lower() or path.startswith(ex.strip("/").lower() + "/")
        for ex in excluded
    )


def _allowed(candidate: Candidate, config: RuleConfig, context: RuleContext) -> bool:
    if candidate.sku == context.viewing or candidate.sku in context.cart:
        return False
    if candidate.sku in config.excluded_items:
        return False
    if config.excluded_categories and excluded_category(
        candidate.category, config.excluded_categories
    ):
        return False
    if config.in_stock_only and not candidate.in_stock:
        return False
    return not (
        config.exclude_bought and candidate.sku in context.bought and not candidate.consumable
    )


def apply_rules(
    candidates: Sequence[Candidate],
    config: RuleConfig,
    context: RuleContext,
    *,
    k: int,
    pinned: Sequence[Candidate] = (),
) -> list[Candidate]:
    """The ``k`` items to show, best first, after every rule.

    Args:
        candidates: Ranked proposals (any order; they are sorted by score, then sku).
        config: The placement's rules.
        context: The request's viewed product, purchases and cart.
        k: How many at most.
        pinned: Candidates for ``config.pinned`` skus (the caller looks them up).
    """
    boosted = [
        replace(c, score=c.score * config.boosted[c.sku]) if c.sku in config.boosted else c
        for c in candidates
    ]
    ranked = sorted(
        (c for c in boosted if _allowed(c, config, context)), key=lambda c: (-c.score, c.sku)
    )
    by_sku = {c.sku: c for c in pinned}
    out: list[Candidate] = []
    taken: set[str] = set()
    for sku in config.pinned:
        pin = by_sku.get(sku)
        if pin is not None and sku not in taken and _allowed(pin, config, context):
            out.append(replace(pin, reason="featured"))
            taken.add(sku)
    per_category: dict[str, int] = {}
    per_brand: dict[str, int] = {}
    for c in ranked:
        if len(out) >= k:
            break
        if c.sku in taken:
            continue
        if _at_cap(per_category, c.category, config.max_per_category) or _at_cap(
            per_brand, c.brand, config.max_per_brand
        ):
            continue
        out.append(c)
        taken.add(c.sku)
        if c.category is not None:
            per_category[c.category] = per_category.get(c.category, 0) + 1
        if c.brand is not None:
            per_brand[c.brand] = per_brand.get(c.brand, 0) + 1
    return out[:k]


def _at_cap(counts: Mapping[str, int], key: str | None, cap: int | None) -> bool:
    return key is not None and cap is not None and counts.get(key, 0) >= cap
