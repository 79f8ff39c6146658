"""Peer runner: the ``implicit`` library's ALS and item-kNN, used as its authors intend.

Run with the peer's own interpreter (``benchmarks/peers/venvs/implicit/bin/python``); see
``runner_io`` for the files it reads and writes. Each model gets four settings — the same
budget our families get — and is fitted on the users × items matrix (cell = number of baskets
holding the item), or on the baskets × items matrix for ``--task baskets`` (item-kNN only:
its ``similar_items`` is the peer's "bought together").
"""

from __future__ import annotations

import os
import sys
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from typing import Any

import numpy as np
from implicit.als import AlternatingLeastSquares
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender
from runner_io import NEIGHBOURS, Phase, Timer, main

warnings.filterwarnings("ignore", message="Method expects CSR input")


def _lists(model: Any, phase: Phase, matrix: Any) -> dict[str, Any]:
    users = phase.users
    history = matrix[users]
    out: dict[str, Any] = {}
    for task, filter_seen in (("all", False), ("new", True)):
        ids, scores = model.recommend(
            users, history, N=phase.k, filter_already_liked_items=filter_seen
        )
        ids = np.asarray(ids, dtype=np.int64)
        ids[~np.isfinite(scores) | (scores <= -1e30)] = -1
        out[task] = ids
    return out


def _similar(model: Any, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    ids, scores = model.similar_items(np.arange(n_items), N=NEIGHBOURS + 1)
    return np.asarray(ids, dtype=np.int64), np.asarray(scores, dtype=np.float64)


def als(phase: Phase, setting: Any, task: str) -> dict[str, Any]:
    factors, regularization = setting
    matrix = phase.matrix().astype(np.float32)
    model = AlternatingLeastSquares(
        factors=factors,
        regularization=regularization,
        alpha=2.0,
        iterations=15,
        random_state=42,
        num_threads=1,
    )
    with Timer() as timer:
        model.fit(matrix, show_progress=False)
    return {**_lists(model, phase, matrix), "fit_wall": timer.wall, "fit_cpu": timer.cpu}


def knn(kind: type) -> Any:
    def fit(phase: Phase, setting: Any, task: str) -> dict[str, Any]:
        matrix = phase.matrix("basket" if task == "baskets" else "user").astype(np.float32)
        model = kind(K=setting, num_threads=1)
        with Timer() as timer:
            model.fit(matrix, show_progress=False)
        if task == "baskets":
            result: dict[str, Any] = {"similar": _similar(model, phase.n_items)}
        else:
            result = _lists(model, phase, matrix)
        return {**result, "fit_wall": timer.wall, "fit_cpu": timer.cpu}

    return fit


MODELS = {
    "implicit ALS": ([(64, 0.05), (128, 0.05), (128, 0.5), (256, 0.5)], als),
    "implicit item-kNN cosine": ([20, 50, 100, 200], knn(CosineRecommender)),
    "implicit item-kNN BM25": ([20, 50, 100, 200], knn(BM25Recommender)),
}
BASKET_MODELS = {
    "implicit item-kNN cosine": ([20, 50, 100, 200], knn(CosineRecommender)),
    "implicit item-kNN BM25": ([20, 50, 100, 200], knn(BM25Recommender)),
}

if __name__ == "__main__":
    main(MODELS, sys.argv[1:], BASKET_MODELS)
