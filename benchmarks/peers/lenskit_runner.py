"""Peer runner: LensKit's EASE and item-kNN (implicit feedback) — an independent EASE.

Run with ``benchmarks/peers/venvs/lenskit/bin/python`` (lenskit 2025.8.1 on the CPU build of
torch 2.13.0); see ``runner_io`` for the files. Each model is trained with LensKit's own
``Dataset`` and asked for scores the way its pipelines ask: one query per user carrying the
user's history, over every training item (so the all-purchases task may return items already
bought; the new-items task drops them). Four settings each, as every model gets.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("LK_NUM_THREADS", "1")
os.environ.setdefault("LK_NUM_PROCS", "1")
os.environ.setdefault("LK_NUM_BACKEND_THREADS", "1")

import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from lenskit.data import ItemList, RecQuery, from_interactions_df
from lenskit.knn import EASEScorer, ItemKNNScorer
from runner_io import Phase, Timer, main, top_rows

warnings.filterwarnings("ignore")
torch.set_num_threads(1)


def _dataset(phase: Phase) -> Any:
    pairs = phase.events.drop_duplicates(["user", "item"])[["user", "item"]]
    return from_interactions_df(
        pd.DataFrame({"user": pairs["user"].to_numpy(), "item": pairs["item"].to_numpy()}),
        user_col="user",
        item_col="item",
        users=np.arange(phase.n_users),
        items=np.arange(phase.n_items),
    )


def _lists(scorer: Any, phase: Phase) -> dict[str, Any]:
    history = phase.events.drop_duplicates(["user", "item"]).groupby("user")["item"].agg(list)
    catalogue = ItemList(item_ids=np.arange(phase.n_items))
    scores = np.full((phase.users.size, phase.n_items), -np.inf)
    seen = np.zeros((phase.users.size, phase.n_items), dtype=bool)
    for row, user in enumerate(phase.users):
        items = np.asarray(history.get(user, []), dtype=np.int64)
        seen[row, items] = True
        query = RecQuery(user_id=int(user), history_items=ItemList(item_ids=items))
        result = scorer(query, catalogue)
        ids = np.asarray(result.ids(), dtype=np.int64)
        values = np.asarray(result.scores(), dtype=np.float64)
        ok = np.isfinite(values)
        scores[row, ids[ok]] = values[ok]
    new = scores.copy()
    new[seen] = -np.inf
    return {"all": top_rows(scores, phase.k), "new": top_rows(new, phase.k)}


def ease(phase: Phase, setting: Any, task: str) -> dict[str, Any]:
    data = _dataset(phase)
    scorer = EASEScorer(regularization=setting)
    with Timer() as timer:
        scorer.train(data)
    return {**_lists(scorer, phase), "fit_wall": timer.wall, "fit_cpu": timer.cpu}


def item_knn(phase: Phase, setting: Any, task: str) -> dict[str, Any]:
    data = _dataset(phase)
    scorer = ItemKNNScorer(max_nbrs=setting, feedback="implicit")
    with Timer() as timer:
        scorer.train(data)
    return {**_lists(scorer, phase), "fit_wall": timer.wall, "fit_cpu": timer.cpu}


MODELS = {
    "LensKit EASE": ([50.0, 200.0, 500.0, 1500.0], ease),
    "LensKit item-kNN": ([20, 50, 100, 200], item_knn),
}

if __name__ == "__main__":
    main(MODELS, sys.argv[1:])
