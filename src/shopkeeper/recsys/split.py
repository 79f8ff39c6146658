"""Temporal splits: train on the past, test on what the same customers bought afterwards.

A random split leaks the future into training (a customer's December basket teaches the model
about their March one); a split at a cut date is what a shop lives through. Test users are those
with purchases both before and after the cut — the only users a history-based model can serve —
and their truth is the set of distinct catalogue items bought after it. Items first sold after
the cut cannot be ranked by a model trained before it; they are dropped from the truth and
:attr:`Split.unknown_item_share` says how much that was.

For tuning, :meth:`EventLog.before` plus a second, earlier cut gives a validation split that
never looks past the real cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from shopkeeper.errors import Invalid
from shopkeeper.recsys.interactions import FloatArray, IntArray, Interactions

__all__ = ["EventLog", "Split", "temporal_split"]


@dataclass(frozen=True, eq=False)
class EventLog:
    """Purchase lines as parallel arrays (users and items as strings, seconds as float)."""

    users: NDArray[np.str_]
    items: NDArray[np.str_]
    timestamps: FloatArray
    baskets: NDArray[np.str_]

    @classmethod
    def from_arrays(
        cls, users: ArrayLike, items: ArrayLike, timestamps: ArrayLike, baskets: ArrayLike
    ) -> EventLog:
        """Coerce the columns; raises :class:`Invalid` when their lengths differ."""
        log = cls(
            np.asarray(users).astype(str),
            np.asarray(items).astype(str),
            np.asarray(timestamps, dtype=np.float64),
            np.asarray(baskets).astype(str),
        )
        if not (log.users.size == log.items.size == log.timestamps.size == log.baskets.size):
            raise Invalid("event columns differ in length", detail={"field": "events"})
        return log

    def before(self, cut: float) -> EventLog:
        """The events strictly before ``cut``."""
        keep = self.timestamps < cut
        return EventLog(
            self.users[keep], self.items[keep], self.timestamps[keep], self.baskets[keep]
        )


@dataclass(frozen=True, eq=False)
class Split:
    """Attributes:
    train: Interactions before the cut (its items are the catalogue ranked).
    test_users: Rows of ``train`` with purchases after the cut.
    truth: ``csr_matrix`` (test users × items), 1 where bought after the cut.
    unknown_item_share: Share of post-cut (user, item) pairs whose item is new after the cut.
    """

    train: Interactions
    test_users: IntArray
    truth: Any
    unknown_item_share: float

    def new_item_truth(self) -> Any:
        """The truth minus what each test user had already bought (the "new items" task)."""
        seen = self.train.binary()[self.test_users]
        fresh = self.truth - self.truth.multiply(seen)
        fresh = sp.csr_matrix(fresh)
        fresh.eliminate_zeros()
        return fresh


def temporal_split(events: EventLog, cut: float, end: float | None = None) -> Split:
    """Train before ``cut``; test on ``[cut, end)`` for users active on both sides.

    Raises:
        Invalid: When no events fall before the cut.
    """
    past = events.timestamps < cut
    if not past.any():
        raise Invalid("no events before the cut", detail={"field": "cut"})
    train = Interactions.from_events(
        events.users[past],
        events.items[past],
        events.timestamps[past],
        baskets=events.baskets[past],
    )
    future = ~past if end is None else (~past & (events.timestamps < end))
    users, items = events.users[future], events.items[future]
    user_row = train.user_index
    item_col = train.item_index
    rows = np.fromiter((user_row.get(u, -1) for u in users), np.int64, users.size)
    cols = np.fromiter((item_col.get(i, -1) for i in items), np.int64, items.size)
    returning = rows >= 0
    pairs = np.unique(np.stack([rows[returning], cols[returning]]), axis=1)
    unknown = float((pairs[1] < 0).mean()) if pairs.size else 0.0
    test_users = np.unique(pairs[0]).astype(np.int64)
    known = pairs[:, pairs[1] >= 0]
    position = np.searchsorted(test_users, known[0])
    truth = sp.csr_matrix(
        (np.ones(known.shape[1]), (position, known[1])),
        shape=(test_users.size, train.shape[1]),
    )
    return Split(train, test_users, truth, unknown)
