"""Pure rules for a shop's raw product data: non-product codes, category paths, price tiers.

Shared by event ingest, the importers and the catalog service so that "is this line a real
product?" and "which category is this?" get one answer everywhere. No web or database imports.

Examples::

    >>> is_non_product("POST", "POSTAGE")
    True
    >>> is_non_product("85123A", "WHITE HANGING HEART T-LIGHT HOLDER")
    False
    >>> normalise_category("Women > Dresses")
    'women/dresses'
    >>> price_tier_for(Decimal("12"), budget_max=Decimal("10"), premium_min=Decimal("50"))
    'mid'
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = [
    "NON_PRODUCT_CODES",
    "NON_PRODUCT_TITLES",
    "is_non_product",
    "normalise_category",
    "price_tier_for",
]

#: Stock codes that are postage, fees, discounts, adjustments or vouchers, not products
#: (upper-cased; the UCI Online Retail set uses all of these, ``m`` as well as ``M``).
NON_PRODUCT_CODES = frozenset(
    {
        "POST",  # postage
        "DOT",  # dotcom postage
        "C2",  # carriage
        "M",  # manual adjustment
        "D",  # discount
        "S",  # samples
        "B",  # bad-debt adjustment
        "BANK CHARGES",
        "AMAZONFEE",
        "CRUK",  # charity commission
        "PADS",  # "pads to match all cushions", a 0.001 adjustment line
        "SHIPPING",
        "TIP",
        "FEE",
        "DISCOUNT",
        "GIFT_CARD",
    }
)

#: Code prefixes of the same kind: ``DCGS0003``, ``DCGSSGIRL`` (Online Retail's
#: ``DCGS…`` adjustments) and ``gift_0001_20`` (gift vouchers). Compared upper-cased.
NON_PRODUCT_PREFIXES = ("DCGS", "GIFT_0001_")

#: Line titles that mark a non-product line whatever its code, as Shopify and similar
#: platforms export shipping, tip and fee lines (often with an empty SKU). Exact matches
#: only, after lower-casing and trimming: "Coffee" or "Fee-free tote" stay products.
NON_PRODUCT_TITLES = frozenset(
    {
        "shipping",
        "shipping fee",
        "shipping charge",
        "standard shipping",
        "express shipping",
        "delivery",
        "delivery fee",
        "postage",
        "postage & packaging",
        "postage and packaging",
        "carriage",
        "tip",
        "tips",
        "gratuity",
        "fee",
        "service fee",
        "handling fee",
        "transaction fee",
        "payment fee",
        "processing fee",
        "bank charges",
        "amazon fee",
        "discount",
        "manual",
        "adjust bad debt",
    }
)

_CATEGORY_SEPARATORS = re.compile(r"\s*(?:>|/|\\|\|)\s*")
_SPACES = re.compile(r"\s+")


def is_non_product(sku: str | None, title: str | None = None) -> bool:
    """Whether a catalog code or order line is postage, a fee, a discount or a voucher.

    Such lines carry revenue but must never be recommended or counted as items bought,
    so importers and ingest mark them ``is_product=False``. A missing SKU alone does not
    make a line a non-product; its title decides then.

    Args:
        sku: The stock code as the shop sends it (case and surrounding spaces ignored).
        title: The line's or product's name, checked against :data:`NON_PRODUCT_TITLES`.
    """
    code = (sku or "").strip().upper()
    if code in NON_PRODUCT_CODES or code.startswith(NON_PRODUCT_PREFIXES):
        return True
    if title is None:
        return False
    return _SPACES.sub(" ", title.strip().lower()) in NON_PRODUCT_TITLES


def normalise_category(category: str | None) -> str | None:
    """A category as a lower-case ``/``-separated path: ``"Women > Dresses"`` → ``"women/dresses"``.

    Segment's ``category`` uses ``>`` or ``/`` between levels; ``\\`` and ``|`` are accepted
    too. Empty levels are dropped and inner runs of spaces collapse to one, so the same
    category spelt two ways becomes one path. Blank input gives ``None``.
    """
    if category is None:
        return None
    levels = [
        _SPACES.sub(" ", level).lower()
        for level in _CATEGORY_SEPARATORS.split(category.strip())
        if level.strip()
    ]
    return "/".join(levels) or None


def price_tier_for(price: Decimal | None, budget_max: Decimal, premium_min: Decimal) -> str | None:
    """The price tier of ``price``: ``budget`` up to ``budget_max``, ``premium`` from
    ``premium_min``, ``mid`` between.

    The catalog never derives tiers itself (a tier only means something relative to the
    shop's own price distribution, which the caller knows); callers that have thresholds,
    such as an importer using its category's price quantiles, call this.

    Raises:
        ValueError: if ``budget_max`` is above ``premium_min``.
    """
    if budget_max > premium_min:
        raise ValueError("budget_max must not exceed premium_min")
    if price is None:
        return None
    if price <= budget_max:
        return "budget"
    if price >= premium_min:
        return "premium"
    return "mid"
