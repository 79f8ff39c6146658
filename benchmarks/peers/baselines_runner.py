"""Peer runner: the two baselines every recommender must beat, written plainly in pandas.

* popularity — the most-bought items (distinct buyers) in a trailing window before the cut;
* buy-again — the customer's own past purchases, most baskets first (optionally decayed by
  age), ties by the latest purchase.

Independent of our ``recsys`` code on purpose (runs in the ``implicit`` peer venv, which has
pandas); four settings each, as every model gets.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import scipy.sparse as sp
from runner_io import Phase, Timer, main, top_rows

DAY = 86_400.0


def popularity(phase: Phase, window_days: Any, task: str) -> dict[str, Any]:
    with Timer() as timer:
        events = phase.events
        if window_days is not None:
            events = events[events["timestamp"] >= phase.now - window_days * DAY]
        buyers = events.drop_duplicates(["user", "item"])["item"].value_counts()
        scores = np.full(phase.n_items, -np.inf)
        scores[buyers.index.to_numpy()] = buyers.to_numpy(dtype=np.float64)
    seen = phase.matrix()[phase.users]
    ranked = np.tile(scores, (phase.users.size, 1))
    return {
        "all": top_rows(ranked, phase.k),
        "new": top_rows(ranked, phase.k, sp.csr_matrix(seen)),
        "fit_wall": timer.wall,
        "fit_cpu": timer.cpu,
    }


def buy_again(phase: Phase, half_life_days: Any, task: str) -> dict[str, Any]:
    with Timer() as timer:
        lines = phase.events.drop_duplicates(["user", "item", "basket"])
        age_days = (phase.now - lines["timestamp"].to_numpy()) / DAY
        weight = (
            np.ones(len(lines)) if half_life_days is None else np.exp2(-age_days / half_life_days)
        )
        # Recency breaks ties: a purchase's weight gains at most 1e-6 for being the latest.
        weight = weight + 1e-6 / (1.0 + age_days)
        scores = sp.csr_matrix(
            (weight, (lines["user"].to_numpy(), lines["item"].to_numpy())),
            shape=(phase.n_users, phase.n_items),
        )
        scores.sum_duplicates()
    dense = scores[phase.users].toarray()
    dense[dense <= 0] = -np.inf
    nothing = np.full((phase.users.size, phase.k), -1, dtype=np.int64)
    return {
        "all": top_rows(dense, phase.k),
        "new": nothing,
        "fit_wall": timer.wall,
        "fit_cpu": timer.cpu,
    }


MODELS = {
    "popularity (pandas)": ([None, 14, 30, 90], popularity),
    "buy-again (pandas)": ([None, 30, 90, 180], buy_again),
}

if __name__ == "__main__":
    main(MODELS, sys.argv[1:])
