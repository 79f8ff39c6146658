"""Catalog input and output shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

PRICE_TIERS = ("budget", "mid", "premium")


class ProductFields(BaseModel):
    """Every field of a product but its key (shared by ``ProductIn`` and ``ProductPut``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(None, max_length=500)
    category_path: str | None = Field(None, max_length=500)
    brand: str | None = Field(None, max_length=200)
    #: Stored as Numeric(14, 4): larger prices would overflow PostgreSQL's column.
    price: Decimal | None = Field(None, ge=0, lt=Decimal("1e10"))
    currency: str | None = Field(None, min_length=3, max_length=3)
    price_tier: str | None = Field(None, pattern="^(budget|mid|premium)$")
    in_stock: bool | None = None
    is_product: bool | None = None
    attributes: dict[str, Any] | None = None

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """PostgreSQL refuses NUL in text and JSONB; refuse it here as bad input, not a 500."""
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class ProductIn(ProductFields):
    """A product as the shop sends it (``PUT /v1/products/{sku}``, bulk, or from events).

    ``category_path`` uses ``/`` between levels (``women/dresses``); Segment's ``category``
    (``Women > Dresses``) is normalised to it. ``None`` means "not given": a partial upsert
    leaves the stored value alone, a full one clears it.
    """

    sku: str = Field(min_length=1, max_length=100)


class ProductPut(ProductFields):
    """The body of ``PUT /v1/products/{sku}``: the path names the product, so ``sku`` is
    optional here and, when given, must match the path."""

    sku: str | None = Field(None, min_length=1, max_length=100)


class ProductBatchIn(BaseModel):
    """The body of ``POST /v1/products/bulk``.

    Items are validated one by one by the endpoint (not here) so that one bad item is
    reported by index while the others are stored.
    """

    model_config = ConfigDict(extra="forbid")

    products: list[Any] = Field(max_length=10_000)
    partial: bool = Field(
        False, description="Only overwrite the fields each item gives (as events do)."
    )


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


class ProductError(BaseModel):
    index: int
    field: str
    message: str


class ProductBatchOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    errors: list[ProductError]


class ProductPage(BaseModel):
    products: list[ProductOut]
    next_cursor: str | None
