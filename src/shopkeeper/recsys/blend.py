"""The ``for_you`` ranker: a weighted blend of model scores with repeat, recency and affinity.

For each user every component's scores are scaled to at most 1 by that user's best score (so a
model's weight means the same for heavy and light users, whatever its score units), ``-inf``
counts as 0, and the blend adds:

* ``Σ_m w_m · ŝ_m`` — the component models (EASE, item-kNN, ALS, content ...);
* ``repeat_weight · r̂`` — the buy-again signal (purchase count decayed with
  ``repeat_half_life_days``, optionally times the item's repeat propensity), scaled the same
  way: on retail data the best single predictor;
* recency — with ``recency_half_life_days`` the history handed to the item-item components is
  decayed, so last week's purchases pull their neighbours up more than last year's;
* ``affinity_weight · a`` — the user's share of purchases in the item's group (category,
  brand; ``item_groups`` maps item → group, ``-1`` for none).

Example::

    blend = Blend({"ease": Ease(), "knn": ItemKNN()}, BlendConfig({"ease": 1.0, "knn": 0.5}))
    blend.fit(interactions).recommend(user, 10)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Query, ScoringRecommender
from shopkeeper.recsys.interactions import FloatArray, IntArray, Interactions
from shopkeeper.recsys.repeat import BuyAgain, BuyAgainConfig

__all__ = ["Blend", "BlendConfig"]


@dataclass(frozen=True)
class BlendConfig:
    """Attributes:
    weights: Weight per component name (names not listed weigh 1).
    repeat_weight: Weight of the buy-again signal (0 turns it off).
    repeat_half_life_days: Recency half-life inside the buy-again signal.
    repeat_propensity_prior: Weigh the buy-again signal by each item's repeat propensity
        (:class:`~shopkeeper.recsys.repeat.BuyAgainConfig`); ``None``: off.
    recency_half_life_days: Decay of the history the components see (``None``: none).
    affinity_weight: Weight of the group-affinity signal (needs ``item_groups``).
    """

    weights: Mapping[str, float] = field(default_factory=dict)
    repeat_weight: float = 1.0
    repeat_half_life_days: float | None = 90.0
    repeat_propensity_prior: float | None = None
    recency_half_life_days: float | None = None
    affinity_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.repeat_weight < 0 or self.affinity_weight < 0:
            raise Invalid("signal weights must not be negative", detail={"field": "weights"})
        if self.recency_half_life_days is not None and self.recency_half_life_days <= 0:
            raise Invalid("half-life must be positive", detail={"field": "recency_half_life_days"})


class Blend(ScoringRecommender):
    """Weighted sum of per-user-normalised component scores and behavioural signals.

    Args:
        components: Named models; fitted by :meth:`fit` unless ``refit`` is false (then they
            must already be fitted on the same interactions — tuning reuses them this way).
        config: Weights and half-lives.
        item_groups: Group per item index for the affinity signal.
        refit: Fit the components in :meth:`fit`.
    """

    personalised = True

    def __init__(
        self,
        components: Mapping[str, ScoringRecommender],
        config: BlendConfig | None = None,
        *,
        item_groups: IntArray | None = None,
        refit: bool = True,
    ) -> None:
        self.components = dict(components)
        self.config = config or BlendConfig()
        self.item_groups = item_groups
        self.refit = refit
        self.repeat = BuyAgain(
            BuyAgainConfig(self.config.repeat_half_life_days, self.config.repeat_propensity_prior)
        )
        self._decayed: Any = None

    def _fit(self, interactions: Interactions) -> None:
        if self.refit:
            for model in self.components.values():
                model.fit(interactions)
        self.repeat.fit(interactions)
        half_life = self.config.recency_half_life_days
        self._decayed = None
        if half_life is not None:
            # Each bought item weighs 2^(-age / half-life), whatever its count.
            self._decayed = interactions.binary()
            age_days = (interactions.now - interactions.last_seen) / 86_400.0
            self._decayed.data = np.exp2(-age_days / half_life)

    def _component_query(self, query: Query) -> Query:
        if self._decayed is None or not query.known:
            return query
        return Query(query.rows, self._decayed[query.rows], query.interactions, weighted=True)

    def _scores(self, query: Query) -> FloatArray:
        inner = self._component_query(query)
        total = np.zeros((query.history.shape[0], self.n_items))
        for name, model in self.components.items():
            weight = self.config.weights.get(name, 1.0)
            if weight:
                total += weight * _normalise(model._scores(inner))
        if self.config.repeat_weight:
            total += self.config.repeat_weight * _normalise(self.repeat.signal(query))
        if self.config.affinity_weight and self.item_groups is not None:
            total += self.config.affinity_weight * self._affinity(query.history)
        return total

    def _affinity(self, history: Any) -> FloatArray:
        groups = np.asarray(self.item_groups, dtype=np.int64)
        has = groups >= 0
        n_groups = int(groups.max()) + 1 if has.any() else 0
        onehot = sp.csr_matrix(
            (np.ones(int(has.sum())), (np.flatnonzero(has), groups[has])),
            shape=(self.n_items, n_groups),
        )
        per_group = np.asarray((history @ onehot).toarray(), dtype=np.float64)
        share = per_group / np.maximum(per_group.sum(axis=1, keepdims=True), 1e-12)
        return np.asarray(onehot @ share.T, dtype=np.float64).T

    def _similar(self, item: int) -> FloatArray:
        total = np.zeros(self.n_items)
        for name, model in self.components.items():
            weight = self.config.weights.get(name, 1.0)
            if weight and getattr(model, "item_to_item", True):
                row = model._similar(item).reshape(1, -1)
                row[0, item] = -np.inf
                total += weight * _normalise(row)[0]
        return total


def _normalise(scores: FloatArray) -> FloatArray:
    """Scale each row so its best finite score is 1 (rows without a positive one stay as are).

    ``-inf`` (no evidence) becomes 0; negative scores keep their sign, scaled the same way.
    """
    out = np.where(np.isfinite(scores), scores, 0.0)
    top = out.max(axis=1, keepdims=True)
    return out / np.where(top > 0, top, 1.0)
