"""Catalog input and output shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PRICE_TIERS = ("budget", "mid", "premium")


class ProductIn(BaseModel):
    """A product as the shop sends it (``PUT /v1/products/{sku}``, bulk, or from events).

    ``category_path`` uses ``/`` between levels (``women/dresses``); Segment's ``category``
    (``Women > Dresses``) is normalised to it.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=100)
    title: str | None = Field(None, max_length=500)
    category_path: str | None = Field(None, max_length=500)
    brand: str | None = Field(None, max_length=200)
    price: Decimal | None = Field(None, ge=0)
    currency: str | None = Field(None, min_length=3, max_length=3)
    price_tier: str | None = Field(None, pattern="^(budget|mid|premium)$")
    in_stock: bool | None = None
    is_product: bool | None = None
    attributes: dict[str, Any] | None = None


class ProductOut(BaseModel):
    sku: str
    title: str | None
    category_path: str | None
    brand: str | None
    price: Decimal | None
    currency: str | None
    price_tier: str | None
    in_stock: bool
    is_product: bool
    attributes: dict[str, Any]
