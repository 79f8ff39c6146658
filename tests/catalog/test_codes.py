"""Known-answer tests for the pure catalog rules (no store needed)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopkeeper.catalog.codes import is_non_product, normalise_category, price_tier_for


@pytest.mark.parametrize(
    ("sku", "title"),
    [
        ("POST", "POSTAGE"),
        ("DOT", "DOTCOM POSTAGE"),
        ("C2", "CARRIAGE"),
        ("M", "Manual"),
        ("m", "Manual"),
        ("D", "Discount"),
        ("S", "SAMPLES"),
        ("B", "Adjust bad debt"),
        ("BANK CHARGES", "Bank Charges"),
        ("AMAZONFEE", "AMAZON FEE"),
        ("CRUK", "CRUK Commission"),
        ("PADS", "PADS TO MATCH ALL CUSHIONS"),
        ("DCGS0003", "BOXED GLASS ASHTRAY"),
        ("DCGSSGIRL", "GIRLS PARTY BAG"),
        ("gift_0001_20", "Dotcomgiftshop Gift Voucher £20.00"),
        (" post ", None),
        (None, "Shipping"),
        ("", "  Tip "),
        ("ship-1", "Service  Fee"),
    ],
)
def test_non_product_codes(sku: str | None, title: str | None) -> None:
    assert is_non_product(sku, title)


@pytest.mark.parametrize(
    ("sku", "title"),
    [
        ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER"),
        ("71053", "WHITE METAL LANTERN"),
        ("POSTER-1", "Poster"),
        ("SKU-9", "Coffee"),
        ("SKU-10", "Fee-free tote"),
        (None, None),
    ],
)
def test_products_are_products(sku: str | None, title: str | None) -> None:
    assert not is_non_product(sku, title)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("Women > Dresses", "women/dresses"),
        ("Women/Dresses", "women/dresses"),
        ("  women /  dresses ", "women/dresses"),
        ("Home & Garden > Outdoor  Lighting", "home & garden/outdoor lighting"),
        ("Women >> Dresses >", "women/dresses"),
        ("Shoes", "shoes"),
        ("   ", None),
        (None, None),
    ],
)
def test_normalise_category(raw: str | None, path: str | None) -> None:
    assert normalise_category(raw) == path


def test_price_tier_for() -> None:
    budget, premium = Decimal("10"), Decimal("50")
    assert price_tier_for(Decimal("9.99"), budget, premium) == "budget"
    assert price_tier_for(Decimal("10"), budget, premium) == "budget"
    assert price_tier_for(Decimal("10.01"), budget, premium) == "mid"
    assert price_tier_for(Decimal("50"), budget, premium) == "premium"
    assert price_tier_for(None, budget, premium) is None
    with pytest.raises(ValueError, match="budget_max"):
        price_tier_for(Decimal("1"), premium, budget)
