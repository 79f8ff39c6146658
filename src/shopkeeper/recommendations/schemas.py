"""Shapes of a recommendations response (the API, the CLI and the Python API share them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

PLACEMENTS = (
    "for_you",
    "also_bought",
    "bought_together",
    "similar",
    "trending",
    "recently_viewed",
    "buy_again",
    "cart",
)


class RecommendationQuery(BaseModel):
    """The query of ``GET /v1/recommendations``."""

    model_config = ConfigDict(populate_by_name=True)

    placement: str = Field(max_length=40, description=f"One of {', '.join(PLACEMENTS)}.")
    customer: str | None = Field(
        None, max_length=320, description="Customer id or any identifier (userId, e-mail...)."
    )
    anonymous_id: str | None = Field(None, alias="anonymousId", max_length=320)
    product: str | None = Field(None, max_length=100, description="The product being viewed.")
    cart: str | None = Field(None, max_length=5000, description="Skus, comma-separated.")
    k: int = Field(10, ge=1, le=100, description="How many items.")

    def cart_skus(self) -> list[str] | None:
        return [s.strip() for s in self.cart.split(",") if s.strip()] if self.cart else None


class RecommendedItem(BaseModel):
    """One product to show, with why it is there."""

    sku: str
    title: str | None = None
    score: float = Field(description="Higher is better; comparable within one response only.")
    reason: str = Field(description='A short explanation, e.g. "often bought with Tea Pot".')


class Recommendations(BaseModel):
    """A placement's list and the strategy that produced it (fallbacks say so)."""

    placement: str
    strategy: str = Field(
        description="What produced the list: personalised, personalised+session, also_bought, "
        "association, content, content+behaviour, trending, trending_by_source, "
        "trending_in_category, "
        "category_bestsellers, recently_viewed, repeat, cart_complements(+session)."
    )
    model_version: str
    items: list[RecommendedItem]
