"""Buy again: rank a customer's own past purchases by how often and how recently they bought.

On shops of consumables and on wholesale data (Online Retail) the strongest single predictor of
the next basket is the last ones. Score of a bought item = ``count × 2 ** (-age / half_life)``
with age from the user's latest purchase of it to the end of training; items never bought
score ``-inf``, so the list is as long as the history and never pads with guesses.

For a history vector (a visitor not in training) there are no timestamps, so its weights are
the score as given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Query, ScoringRecommender
from shopkeeper.recsys.interactions import FloatArray, Interactions

__all__ = ["BuyAgain", "BuyAgainConfig"]


@dataclass(frozen=True)
class BuyAgainConfig:
    """Attributes:
    half_life_days: Recency half-life; ``None`` ranks by purchase count alone.
    """

    half_life_days: float | None = 90.0

    def __post_init__(self) -> None:
        if self.half_life_days is not None and self.half_life_days <= 0:
            raise Invalid("half_life_days must be positive", detail={"field": "half_life_days"})


class BuyAgain(ScoringRecommender):
    """The user's own purchases, most frequent and recent first; nothing else."""

    personalised = True
    #: It never leaves the user's own items, so it has no "similar items" of its own.
    item_to_item = False

    def __init__(self, config: BuyAgainConfig | None = None) -> None:
        self.config = config or BuyAgainConfig()
        self._decayed: object = None

    def _fit(self, interactions: Interactions) -> None:
        self._decayed = interactions.decayed(self.config.half_life_days)

    def signal(self, query: Query) -> FloatArray:
        """Dense repeat-purchase scores, 0 where never bought (the blend's input)."""
        source = self._decayed[query.rows] if query.known else query.history  # type: ignore[index]
        return np.asarray(source.toarray(), dtype=np.float64)

    def _scores(self, query: Query) -> FloatArray:
        scores = self.signal(query)
        scores[scores <= 0] = -np.inf
        return scores

    def _similar(self, item: int) -> FloatArray:
        """Items bought by the same users, by count: the only item link buy-again knows."""
        x = self.interactions.binary()
        column = x[:, item]
        return np.asarray((x.T @ column).toarray(), dtype=np.float64).ravel()
