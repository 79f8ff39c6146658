"""The ``for_you`` blend, configured once: what the benchmarks measure is what the shop serves.

Terms (weights in :class:`ForYouConfig`; each normalised per user by :class:`~.blend.Blend`):

* ``ease`` — EASE over the recency-decayed purchase history (BM25 item-kNN instead above
  ``ease_max_items``: EASE inverts an items × items matrix);
* ``content`` — content neighbours of the history (category path, brand, tier, title words);
* ``trending`` — popularity by *adoption*: buyers counted from their first purchase of the item,
  decayed with a 7-day half-life, so items winning new buyers right now rise;
* ``affinity`` — recent bestsellers re-weighted by the customer's lift towards each item's
  category and price tier (:class:`~.affinity.GroupAffinity`); silent without catalogue fields;
* ``repeat`` — the buy-again signal times each item's repeat propensity.

How the design was chosen (validation cuts only, never a test period — BENCHMARKS.md has the
figures): on Online Retail content (titles) and adoption trending lifted validation NDCG@10 on
new items from 0.139 to 0.167 (EASE alone 0.132); on the simulator the affinity term carries
the planted category and tier preferences (new items 0.045 → 0.065). The repeat weight is what
the harness tunes, on ``REPEAT_WEIGHTS`` (0 lets validation fall back to the similarity terms).

Example::

    blend = for_you_blend(ForYouConfig(), catalogue, n_items=len(item_ids))
    blend.fit(interactions)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from shopkeeper.errors import Invalid
from shopkeeper.recsys.affinity import AffinityConfig, GroupAffinity
from shopkeeper.recsys.base import ScoringRecommender
from shopkeeper.recsys.blend import Blend, BlendConfig
from shopkeeper.recsys.content import ContentConfig, ContentRecommender, ItemContent
from shopkeeper.recsys.cooccurrence import CooccurrenceConfig, ItemKNN
from shopkeeper.recsys.ease import Ease, EaseConfig
from shopkeeper.recsys.popularity import Popularity, PopularityConfig

__all__ = ["REPEAT_WEIGHTS", "ForYouConfig", "for_you_blend"]

#: Repeat weights the harness tries on the validation cut (the blend's tuning budget).
REPEAT_WEIGHTS = (0.0, 1.0, 2.0, 4.0)


def _weights() -> dict[str, float]:
    return {"ease": 1.0, "content": 0.5, "trending": 1.0, "affinity": 4.0}


@dataclass(frozen=True)
class ForYouConfig:
    """Attributes:
    weights: Weight per term (``ease``, ``content``, ``trending``, ``affinity``).
    repeat_weight: Weight of the buy-again term (tuned by the harness on ``REPEAT_WEIGHTS``;
        2.0 is Online Retail's validation pick).
    ease_l2: EASE's ridge penalty (the harness reuses the EASE family's tuned value; 500 is
        what both data sets' validation cuts picked).
    ease_max_items: Above this many items the ``ease`` term is BM25 item-kNN.
    knn_neighbours: Neighbours per item of that item-kNN.
    history_half_life_days: Decay of the history the terms see (``None``: none).
    repeat_half_life_days: Decay inside the buy-again signal.
    repeat_propensity_prior: Pseudo-buyers of the repeat propensity (``None``: off).
    trending_half_life_days: Half-life of adoption trending.
    affinity: The group-affinity term's fields, prior and popularity half-life.
    """

    weights: Mapping[str, float] = field(default_factory=_weights)
    repeat_weight: float = 2.0
    ease_l2: float = 500.0
    ease_max_items: int = 5000
    knn_neighbours: int = 100
    history_half_life_days: float | None = 90.0
    repeat_half_life_days: float | None = 90.0
    repeat_propensity_prior: float | None = 5.0
    trending_half_life_days: float = 7.0
    affinity: AffinityConfig = field(default_factory=AffinityConfig)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(_weights())
        if unknown:
            raise Invalid(f"unknown for_you terms: {sorted(unknown)}", detail={"field": "weights"})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (a model version's manifest keeps the configuration it was trained with)."""
        out = asdict(self)
        out["weights"] = dict(self.weights)
        out["affinity"]["fields"] = list(self.affinity.fields)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForYouConfig:
        """The inverse of :meth:`to_dict`."""
        values = dict(data)
        affinity = dict(values.pop("affinity", {}))
        if "fields" in affinity:
            affinity["fields"] = tuple(affinity["fields"])
        return cls(**values, affinity=AffinityConfig(**affinity))


def for_you_blend(
    config: ForYouConfig, catalogue: Mapping[str, ItemContent], n_items: int
) -> Blend:
    """The unfitted ``for_you`` blend for a catalogue of ``n_items`` items.

    Args:
        config: The configuration.
        catalogue: Description per item id (content and affinity terms; may be empty).
        n_items: Items the blend will be fitted on (picks EASE or item-kNN).
    """
    similarity: ScoringRecommender = (
        Ease(EaseConfig(l2=config.ease_l2))
        if n_items <= config.ease_max_items
        else ItemKNN(CooccurrenceConfig("bm25", neighbours=config.knn_neighbours))
    )
    components: dict[str, ScoringRecommender] = {
        "ease": similarity,
        "content": ContentRecommender(catalogue, ContentConfig()),
        "trending": Popularity(PopularityConfig(config.trending_half_life_days, since="first")),
        "affinity": GroupAffinity(catalogue, config.affinity),
    }
    return Blend(
        {name: model for name, model in components.items() if config.weights.get(name, 0.0)},
        BlendConfig(
            weights=dict(config.weights),
            repeat_weight=config.repeat_weight,
            repeat_half_life_days=config.repeat_half_life_days,
            repeat_propensity_prior=config.repeat_propensity_prior,
            recency_half_life_days=config.history_half_life_days,
        ),
    )
