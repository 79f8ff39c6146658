"""Shapes of a recommendations response (the API, the CLI and the Python API share them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

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
