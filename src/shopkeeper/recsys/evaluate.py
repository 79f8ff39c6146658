"""Run a model on a :class:`~shopkeeper.recsys.split.Split` and score its top-k lists.

Full-catalogue ranking, never sampled negatives: every test user's list is the model's top k
over all items, the way the shop would show it. Two tasks, reported separately because they
reward different models:

* ``all`` — every item bought after the cut, repurchases included (buy-again is strong here);
* ``new`` — only items the customer had not bought before, with their history excluded from the
  list (discovery; buy-again scores nothing here by design).

Each task is broken down by tenure — the customer's number of training baskets — because a
model that serves regulars well can still fail newcomers.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopkeeper.recsys import metrics
from shopkeeper.recsys.base import ScoringRecommender
from shopkeeper.recsys.interactions import FloatArray
from shopkeeper.recsys.split import Split

__all__ = ["Evaluation", "TaskResult", "evaluate", "tenure_groups"]

#: Lower bounds of the tenure groups, in training baskets.
TENURE_BOUNDS = (1, 2, 5, 10)


@dataclass(frozen=True)
class TaskResult:
    """Means over the task's users; ``by_tenure`` maps group label → (users, NDCG@k)."""

    ndcg: float
    recall: float
    map: float
    hit_rate: float
    coverage: float
    novelty: float
    popularity_bias: float
    users: int
    by_tenure: dict[str, tuple[int, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """One model's results: fit and scoring time (seconds) and a result per task."""

    fit_seconds: float
    score_seconds: float
    tasks: dict[str, TaskResult]


def tenure_groups(baskets: Any, bounds: Sequence[int] = TENURE_BOUNDS) -> list[str]:
    """Label per user: ``"1"``, ``"2-4"``, ``"5-9"``, ``"10+"`` for the default bounds."""
    labels = [
        f"{lo}" if hi == lo + 1 else f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(bounds)
    ] + [f"{bounds[-1]}+"]
    index = np.searchsorted(np.asarray(bounds), np.asarray(baskets), side="right") - 1
    return [labels[max(int(n), 0)] for n in index]


def evaluate(
    model: ScoringRecommender,
    split: Split,
    k: int = 10,
    *,
    fit: bool = True,
    tasks: Sequence[str] = ("all", "new"),
) -> Evaluation:
    """Fit ``model`` on ``split.train`` (unless ``fit`` is false) and score both tasks."""
    started = time.perf_counter()
    if fit:
        model.fit(split.train)
    fit_seconds = time.perf_counter() - started
    popularity = np.asarray(split.train.binary().sum(axis=0), dtype=np.float64).ravel()
    popularity /= max(split.train.shape[0], 1)
    groups = tenure_groups(split.train.baskets[split.test_users])
    results: dict[str, TaskResult] = {}
    started = time.perf_counter()
    for task in tasks:
        truth = split.truth if task == "all" else split.new_item_truth()
        recommended, _ = model.recommend_many(split.test_users, k, exclude_seen=task == "new")
        results[task] = _score(recommended, truth, popularity, groups)
    return Evaluation(fit_seconds, time.perf_counter() - started, results)


def _score(recommended: Any, truth: Any, popularity: FloatArray, groups: list[str]) -> TaskResult:
    ndcg = metrics.ndcg(recommended, truth)
    answered = ~np.isnan(ndcg)
    by_tenure: dict[str, tuple[int, float]] = {}
    labels = np.asarray(groups)
    for label in dict.fromkeys(sorted(groups, key=lambda g: int(g.split("-")[0].rstrip("+")))):
        members = (labels == label) & answered
        by_tenure[label] = (int(members.sum()), metrics.mean(ndcg[members]))
    return TaskResult(
        ndcg=metrics.mean(ndcg),
        recall=metrics.mean(metrics.recall(recommended, truth)),
        map=metrics.mean(metrics.average_precision(recommended, truth)),
        hit_rate=metrics.mean(metrics.hit_rate(recommended, truth)),
        coverage=metrics.coverage(recommended[answered], truth.shape[1]),
        novelty=metrics.novelty(recommended[answered], popularity),
        popularity_bias=metrics.popularity_bias(recommended[answered], popularity),
        users=int(answered.sum()),
        by_tenure=by_tenure,
    )
