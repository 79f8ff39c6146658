"""Peer runner: Microsoft Recommenders' SAR (Simple Algorithm for Recommendation).

Run with ``benchmarks/peers/venvs/recommenders/bin/python`` (recommenders 1.2.1, numpy<2,
cornac<2.3); see ``runner_io`` for the files. SAR scores ``affinity · similarity``: a user's
(optionally time-decayed) purchase counts times an item-item similarity of co-occurrence
counts. Four settings, as every model gets: similarity and decay half-life for the lists;
similarity type for the basket task, where SAR is fitted with baskets as its "users" and its
``item_similarity`` rows are the neighbours.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from recommenders.models.sar import SAR
from runner_io import NEIGHBOURS, Phase, Timer, main, top_rows

warnings.filterwarnings("ignore")

logging.disable(logging.INFO)


def _frame(phase: Phase, rows: str) -> pd.DataFrame:
    """One row per (user, item), as SAR requires: rated by the baskets holding it, stamped with
    the latest (SAR's time decay then ages the pair by its last purchase).
    """
    lines = phase.events.drop_duplicates([rows, "item", "basket"])
    frame = pd.DataFrame(
        {
            "userID": lines[rows].to_numpy(),
            "itemID": lines["item"].to_numpy(),
            "rating": np.ones(len(lines)),
            "timestamp": lines["timestamp"].to_numpy(),
        }
    )
    return frame.groupby(["userID", "itemID"], as_index=False).agg(
        rating=("rating", "sum"), timestamp=("timestamp", "max")
    )


def _model(similarity: str, decay: Any, now: float) -> SAR:
    return SAR(
        col_user="userID",
        col_item="itemID",
        col_rating="rating",
        col_timestamp="timestamp",
        similarity_type=similarity,
        time_decay_coefficient=decay or 30,
        time_now=now,
        timedecay_formula=decay is not None,
    )


def _columns(model: SAR, n_items: int) -> np.ndarray:
    """Our item index of each of SAR's columns."""
    return np.asarray([model.index2item[i] for i in range(model.n_items)], dtype=np.int64)


def sar_similarity(phase: Phase, similarity: Any, task: str) -> dict[str, Any]:
    """Fitted on baskets as SAR's users; the similarity rows are the neighbours."""
    frame = _frame(phase, "basket")
    frame["rating"] = 1.0
    model = _model(similarity, None, phase.now)
    with Timer() as timer:
        model.fit(frame)
    ours = _columns(model, phase.n_items)
    dense = np.asarray(
        model.item_similarity.toarray()
        if sp.issparse(model.item_similarity)
        else model.item_similarity,
        dtype=np.float64,
    )
    np.fill_diagonal(dense, -np.inf)
    dense[dense <= 0] = -np.inf
    local = top_rows(dense, NEIGHBOURS)
    items = np.full((phase.n_items, NEIGHBOURS), -1, dtype=np.int64)
    scores = np.full((phase.n_items, NEIGHBOURS), -np.inf)
    items[ours] = np.where(local >= 0, ours[np.maximum(local, 0)], -1)
    scores[ours] = np.take_along_axis(dense, np.maximum(local, 0), axis=1)
    return {"similar": (items, scores), "fit_wall": timer.wall, "fit_cpu": timer.cpu}


def sar(phase: Phase, setting: Any, task: str) -> dict[str, Any]:
    similarity, decay = setting
    frame = _frame(phase, "user")
    model = _model(similarity, decay, phase.now)
    with Timer() as timer:
        model.fit(frame)
    ours = _columns(model, phase.n_items)
    test = pd.DataFrame({"userID": phase.users})
    out: dict[str, Any] = {"fit_wall": timer.wall, "fit_cpu": timer.cpu}
    for name, remove_seen in (("all", False), ("new", True)):
        scores = np.asarray(model.score(test, remove_seen=remove_seen), dtype=np.float64)
        scores[np.isnan(scores)] = -np.inf
        local = top_rows(scores, phase.k)
        out[name] = np.where(local >= 0, ours[np.maximum(local, 0)], -1)
    return out


MODELS = {
    "SAR": ([("jaccard", None), ("jaccard", 30), ("jaccard", 90), ("lift", 90)], sar),
}
BASKET_MODELS = {"SAR": (["jaccard", "lift", "cooccurrence", "cosine"], sar_similarity)}

if __name__ == "__main__":
    main(MODELS, sys.argv[1:], BASKET_MODELS)
