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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopkeeper.errors import Invalid
from shopkeeper.recsys import metrics
from shopkeeper.recsys.base import ScoringRecommender
from shopkeeper.recsys.interactions import FloatArray, IntArray
from shopkeeper.recsys.split import Split

__all__ = ["Evaluation", "TaskResult", "evaluate", "score", "tenure_groups"]

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
    """One model's results: fit (wall and CPU) and scoring time in seconds, a result per task."""

    fit_seconds: float
    score_seconds: float
    tasks: dict[str, TaskResult]
    fit_cpu_seconds: float = float("nan")


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
    started, cpu = time.perf_counter(), time.process_time()
    if fit:
        model.fit(split.train)
    fit_seconds, fit_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    lists = {
        task: model.recommend_many(split.test_users, k, exclude_seen=task == "new")[0]
        for task in tasks
    }
    results = score(lists, split)
    return Evaluation(fit_seconds, time.perf_counter() - started, results, fit_cpu)


def score(lists: Mapping[str, IntArray], split: Split) -> dict[str, TaskResult]:
    """Score ready-made top-k lists — rows aligned with ``split.test_users`` — per task.

    This is how lists from outside (a peer library run in its own virtualenv) are scored with
    exactly the metrics our own models get: ``lists`` maps ``"all"`` / ``"new"`` to an
    (n × k) item-index array padded with ``-1``.
    """
    popularity = np.asarray(split.train.binary().sum(axis=0), dtype=np.float64).ravel()
    popularity /= max(split.train.shape[0], 1)
    groups = tenure_groups(split.train.baskets[split.test_users])
    results: dict[str, TaskResult] = {}
    for task, recommended in lists.items():
        if task not in ("all", "new"):
            raise Invalid("task must be 'all' or 'new'", detail={"field": "task"})
        truth = split.truth if task == "all" else split.new_item_truth()
        if recommended.shape[0] != truth.shape[0]:
            raise Invalid("one list per test user", detail={"field": "lists"})
        results[task] = _score(recommended, truth, popularity, groups)
    return results


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
