"""Our model families with the settings each may try, and tuning on a validation split.

Every family gets the same budget — :data:`BUDGET` settings — tried on a validation split cut
inside the training period (never on the test period), picked by NDCG@10 on the
all-purchases task; the winner is refitted on the whole training period. Peers evaluated
against us get the same budget (``benchmarks/peers``), so a better score is not bought with
more tuning.

The ``for_you`` blend (:mod:`shopkeeper.recsys.for_you`, the configuration serving uses too)
reuses the tuned EASE penalty and searches its own knob (the weight of the buy-again signal,
0 included), so its budget is the same four fits; its fixed design (terms, weights,
half-lives) was chosen on validation splits only.

Example::

    tuned = {}
    for family in families(lambda: tuned["EASE"], catalogue=catalogue, n_items=3000):
        tuned[family.name], _ = tune(family, validation)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from shopkeeper.recsys.als import Als, AlsConfig
from shopkeeper.recsys.base import ScoringRecommender
from shopkeeper.recsys.content import ItemContent
from shopkeeper.recsys.cooccurrence import CooccurrenceConfig, ItemKNN
from shopkeeper.recsys.ease import Ease, EaseConfig
from shopkeeper.recsys.evaluate import evaluate
from shopkeeper.recsys.for_you import REPEAT_WEIGHTS, ForYouConfig, for_you_blend
from shopkeeper.recsys.popularity import Popularity, PopularityConfig
from shopkeeper.recsys.repeat import BuyAgain, BuyAgainConfig
from shopkeeper.recsys.split import Split

__all__ = ["BASKET_SETTINGS", "BUDGET", "FOR_YOU", "Family", "families", "tune"]

#: Settings each model family may try on the validation split.
BUDGET = 4
#: The family that is the ``for_you`` placement.
FOR_YOU = "blend (for_you)"
#: ``(min_support, neighbours)`` tried for ``bought_together`` (``recsys.baskets.association``).
BASKET_SETTINGS = ((1, 20), (2, 20), (1, 50), (2, 50))


@dataclass(frozen=True)
class Family:
    """A model family: its name, the settings tried and how to build one from a setting."""

    name: str
    settings: Sequence[Any]
    build: Callable[[Any], ScoringRecommender]


def families(
    ease_l2: Callable[[], float],
    seed: int = 42,
    *,
    catalogue: Mapping[str, ItemContent] | None = None,
    n_items: int = 0,
    for_you: ForYouConfig | None = None,
) -> list[Family]:
    """Our families in tuning order (EASE before the blend, which reuses its penalty).

    Args:
        ease_l2: Returns EASE's tuned penalty when the blend is built.
        seed: Seed for ALS's initial factors.
        catalogue: Item descriptions for the blend's content and affinity terms (known
            before the cut: the shop's catalogue, never the test period's purchases).
        n_items: Items of the training period (the blend picks EASE or item-kNN by it).
        for_you: The blend's configuration (default: what serving uses).
    """
    design = for_you or ForYouConfig()
    described = catalogue or {}

    return [
        Family(
            "popularity",
            [None, 14.0, 30.0, 90.0],
            lambda h: Popularity(PopularityConfig(half_life_days=h)),
        ),
        Family(
            "buy-again",
            [None, 30.0, 90.0, 180.0],
            lambda h: BuyAgain(BuyAgainConfig(half_life_days=h)),
        ),
        Family(
            "item-kNN cosine",
            [20, 50, 100, 200],
            lambda n: ItemKNN(CooccurrenceConfig("cosine", neighbours=n)),
        ),
        Family("EASE", [50.0, 200.0, 500.0, 1500.0], lambda l2: Ease(EaseConfig(l2=l2))),
        Family(
            "ALS",
            [(64, 0.05), (128, 0.05), (128, 0.5), (256, 0.5)],
            lambda fr: Als(
                AlsConfig(factors=fr[0], regularization=fr[1], alpha=2.0),
                rng=np.random.default_rng(seed),
            ),
        ),
        Family(
            FOR_YOU,
            list(REPEAT_WEIGHTS),
            lambda r: for_you_blend(
                replace(design, ease_l2=ease_l2(), repeat_weight=r), described, n_items
            ),
        ),
    ]


def tune(family: Family, validation: Split, k: int = 10) -> tuple[Any, dict[Any, float]]:
    """Best setting by validation NDCG@k on all purchases; ties keep the earlier setting."""
    scores: dict[Any, float] = {}
    for setting in family.settings[:BUDGET]:
        result = evaluate(family.build(setting), validation, k, tasks=("all",))
        scores[setting] = result.tasks["all"].ndcg
    best = max(scores, key=lambda s: -np.inf if np.isnan(scores[s]) else scores[s])
    return best, scores
