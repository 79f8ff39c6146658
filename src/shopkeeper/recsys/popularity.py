"""Popularity and trending: the non-personal baseline and the cold-start fallback.

Score of an item = how many users bought it, each user's purchase weighted by
``2 ** (-age / half_life)`` of their latest purchase when ``half_life_days`` is set
("trending"). Age is measured from the latest timestamp in the training data, so a model
fitted on the same data always gives the same list. Using each user's *latest* purchase (not
every event) is the approximation that lets trending fit from the matrix alone.

With ``since="first"`` each buyer counts from their *first* purchase of the item instead:
trending by adoption — the items winning new buyers now, not the ones loyal customers keep
re-buying. It is the better prior for items new to a customer (Online Retail's validation
cut, for_you new items: BENCHMARKS.md).

Every user gets the same ranking; ``similar_items`` returns the most popular other items, which
is what a shop shows when it knows nothing about the product.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Query, ScoringRecommender
from shopkeeper.recsys.interactions import FloatArray, Interactions

__all__ = ["Popularity", "PopularityConfig"]


@dataclass(frozen=True)
class PopularityConfig:
    """Attributes:
    half_life_days: ``None`` for all-time popularity, else the decay half-life (trending).
    since: Which purchase of each buyer the decay dates: their ``latest`` or their ``first``.
    """

    half_life_days: float | None = None
    since: Literal["latest", "first"] = "latest"

    def __post_init__(self) -> None:
        if self.half_life_days is not None and self.half_life_days <= 0:
            raise Invalid("half_life_days must be positive", detail={"field": "half_life_days"})
        if self.since not in ("latest", "first"):
            raise Invalid("since must be 'latest' or 'first'", detail={"field": "since"})


class Popularity(ScoringRecommender):
    """Most-bought (or trending) items, the same for everyone."""

    personalised = False

    def __init__(self, config: PopularityConfig | None = None) -> None:
        self.config = config or PopularityConfig()
        self.item_scores: FloatArray = np.zeros(0)

    def _fit(self, interactions: Interactions) -> None:
        buyers = interactions.binary()
        if self.config.half_life_days is not None:
            stamps = (
                interactions.first_seen if self.config.since == "first" else interactions.last_seen
            )
            age_days = (interactions.now - stamps) / 86_400.0
            buyers.data *= np.exp2(-age_days / self.config.half_life_days)
        self.item_scores = np.asarray(buyers.sum(axis=0), dtype=np.float64).ravel()

    def _scores(self, query: Query) -> FloatArray:
        return np.tile(self.item_scores, (query.history.shape[0], 1))

    def _similar(self, item: int) -> FloatArray:
        return self.item_scores.copy()

    def state(self) -> dict[str, Any]:
        return {"item_scores": self.item_scores}

    def _restore(self, state: Mapping[str, Any]) -> None:
        self.item_scores = np.asarray(state["item_scores"], dtype=np.float64)
