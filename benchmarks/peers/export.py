"""Our side of the peer protocol: export a split once, read the peers' answers back.

The split (train lines before the cut, the test users) is written to Parquet in the index
space of our :class:`~shopkeeper.recsys.split.Split` — row = ``split.train`` row, column =
``split.train`` item — so a peer's top-k lists come back as item indices we score with
:func:`shopkeeper.recsys.evaluate.score`, exactly as our own models are scored. The truth
never leaves our process. See ``runner_io.py`` for the file layout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopkeeper.recsys.baskets import BasketTest, basket_matrix, hide_one
from shopkeeper.recsys.split import EventLog, Split

__all__ = ["basket_data", "export_phase", "read_fit", "read_lists", "read_similar"]


def export_phase(events: EventLog, split: Split, cut: float, target: Path, k: int) -> Path:
    """Write ``events.parquet``, ``users.parquet`` and ``meta.json`` for one split.

    Args:
        events: The purchase lines the split was made from (later lines are ignored).
        split: ``temporal_split(events, cut)``.
        cut: The split's cut (seconds): the "now" of the training data.
        target: Directory to write (created).
        k: List length the runners must return.
    """
    target.mkdir(parents=True, exist_ok=True)
    before = events.before(cut)
    rows = split.train.user_index
    cols = split.train.item_index
    frame = pd.DataFrame(
        {
            "user": np.fromiter((rows[u] for u in before.users), np.int32, before.users.size),
            "item": np.fromiter((cols[i] for i in before.items), np.int32, before.items.size),
            "timestamp": before.timestamps,
            "basket": np.unique(before.baskets, return_inverse=True)[1].astype(np.int64),
        }
    )
    frame.to_parquet(target / "events.parquet", index=False)
    pd.DataFrame({"user": split.test_users.astype(np.int32)}).to_parquet(
        target / "users.parquet", index=False
    )
    n_users, n_items = split.train.shape
    meta = {"n_users": n_users, "n_items": n_items, "now": cut, "k": k}
    (target / "meta.json").write_text(json.dumps(meta))
    return target


def basket_data(
    events: EventLog,
    split: Split,
    cut: float,
    end: float | None = None,
    *,
    seed: int = 42,
) -> tuple[Any, BasketTest]:
    """Training baskets (before ``cut``) and the hide-one test on baskets in ``[cut, end)``.

    Items first sold after the cut are dropped from a test basket before the "at least two
    items" rule applies: no model trained before the cut can name them.
    """
    cols = split.train.item_index
    n_items = split.train.shape[1]

    def matrix(part: EventLog) -> Any:
        known = np.fromiter((cols.get(i, -1) for i in part.items), np.int64, part.items.size)
        keep = known >= 0
        basket = np.unique(part.baskets[keep], return_inverse=True)[1]
        return basket_matrix(basket, known[keep], n_items)

    past = events.timestamps < cut
    future = ~past if end is None else (~past & (events.timestamps < end))
    train = matrix(_subset(events, past))
    test = hide_one(matrix(_subset(events, future)), np.random.default_rng(seed))
    return train, test


def _subset(events: EventLog, keep: Any) -> EventLog:
    return EventLog(
        events.users[keep], events.items[keep], events.timestamps[keep], events.baskets[keep]
    )


def read_lists(directory: Path, n_users: int, k: int) -> dict[str, np.ndarray]:
    """The ``all`` / ``new`` lists a runner wrote, as (n × k) arrays padded with ``-1``."""
    out: dict[str, np.ndarray] = {}
    for task in ("all", "new"):
        lists = np.full((n_users, k), -1, dtype=np.int64)
        path = directory / f"{task}.parquet"
        if path.exists():
            frame = pd.read_parquet(path)
            frame = frame[frame["rank"] < k]
            lists[frame["position"].to_numpy(), frame["rank"].to_numpy()] = frame["item"]
        out[task] = lists
    return out


def read_similar(directory: Path, n_items: int) -> Any:
    """A runner's neighbour lists as an item × item ``csr_matrix`` of its scores."""
    frame = pd.read_parquet(directory / "similar.parquet")
    return sp.csr_matrix(
        (frame["score"].to_numpy(), (frame["item"].to_numpy(), frame["neighbour"].to_numpy())),
        shape=(n_items, n_items),
    )


def read_fit(directory: Path) -> dict[str, Any]:
    """The runner's ``fit.json``: setting, fit wall and CPU seconds."""
    return dict(json.loads((directory / "fit.json").read_text()))
