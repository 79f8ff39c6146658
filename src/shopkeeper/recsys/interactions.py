"""Who bought (or viewed) what: a sparse user × item matrix with its id maps and timestamps.

Every model fits on an :class:`Interactions`; the evaluation splits produce them. One row per
user, one column per item; a cell holds the summed weight of that user's events on that item
(with ``baskets`` given: the number of distinct baskets holding it, so a wholesaler's 500-unit
line counts as one purchase) and :attr:`Interactions.last_seen` / :attr:`Interactions.first_seen`
keep the latest and earliest timestamp of the cell, aligned with ``matrix.data``, for recency,
repeat-purchase and adoption (first purchase) signals.

Timestamps are float seconds (any epoch); models only use differences between them.

Example::

    >>> x = Interactions.from_events(["a", "a", "b"], ["tea", "mug", "tea"], [1.0, 2.0, 3.0])
    >>> x.shape
    (2, 2)
    >>> x.item_ids
    ('mug', 'tea')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from shopkeeper.errors import Invalid

__all__ = ["FloatArray", "IntArray", "Interactions"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Interactions:
    """A CSR user × item matrix plus the ids its rows and columns stand for.

    Attributes:
        matrix: ``csr_matrix`` (users × items, float64), canonical (sorted indices, no
            duplicates, no explicit zeros).
        user_ids: External id of each row.
        item_ids: External id of each column; may include items nobody interacted with (a
            catalogue), so content models can still place them.
        last_seen: Latest timestamp of each stored cell, aligned with ``matrix.data``.
        baskets: Distinct baskets (orders) per user; equals the number of distinct timestamps
            when no basket ids were given. The tenure groups of the evaluation use it.
        first_seen: Earliest timestamp of each stored cell (the user's first purchase of the
            item), aligned with ``matrix.data``.
    """

    matrix: Any
    user_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    last_seen: FloatArray
    baskets: IntArray = field(repr=False)
    first_seen: FloatArray = field(repr=False)

    def __post_init__(self) -> None:
        rows, cols = self.matrix.shape
        if rows != len(self.user_ids) or cols != len(self.item_ids):
            raise Invalid("matrix shape does not match the id maps", detail={"field": "matrix"})
        aligned = self.last_seen.shape == self.first_seen.shape == self.matrix.data.shape
        if not aligned or self.baskets.shape != (rows,):
            raise Invalid("timestamps do not align with the matrix", detail={"field": "last_seen"})

    @classmethod
    def catalogue(cls, item_ids: Sequence[str]) -> Interactions:
        """No users, only items: what a model restored for serving histories is fitted on."""
        empty = sp.csr_matrix((0, len(item_ids)), dtype=np.float64)
        return cls(empty, (), tuple(item_ids), np.zeros(0), np.zeros(0, np.int64), np.zeros(0))

    @classmethod
    def from_events(
        cls,
        users: Sequence[Any] | ArrayLike,
        items: Sequence[Any] | ArrayLike,
        timestamps: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        *,
        baskets: ArrayLike | None = None,
        user_catalogue: Iterable[Any] | None = None,
        item_catalogue: Iterable[Any] | None = None,
    ) -> Interactions:
        """Aggregate event rows (one per purchase line or view) into the matrix.

        Args:
            users: User id per event (stringified).
            items: Item id per event (stringified).
            timestamps: Seconds per event; all zero when omitted.
            weights: Weight per event (default 1). Ignored for rows that repeat an earlier
                (user, basket, item) when ``baskets`` is given: a basket counts an item once.
            baskets: Basket (order) id per event.
            user_catalogue: Extra user ids to give rows even without events.
            item_catalogue: Extra item ids (e.g. the whole catalogue, new products included).

        Raises:
            Invalid: When the arrays differ in length.
        """
        user_arr = np.asarray(users).astype(str)
        item_arr = np.asarray(items).astype(str)
        n = user_arr.shape[0]
        ts = np.zeros(n) if timestamps is None else np.asarray(timestamps, dtype=np.float64)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        if not (item_arr.shape[0] == ts.shape[0] == w.shape[0] == n):
            raise Invalid("event arrays differ in length", detail={"field": "items"})
        user_ids = np.unique(np.concatenate([user_arr, _as_str(user_catalogue)]))
        item_ids = np.unique(np.concatenate([item_arr, _as_str(item_catalogue)]))
        u = np.searchsorted(user_ids, user_arr).astype(np.int64)
        i = np.searchsorted(item_ids, item_arr).astype(np.int64)
        if baskets is None:
            basket_code = np.unique(ts, return_inverse=True)[1].astype(np.int64)
            per_user = _distinct_count(u, basket_code, user_ids.size)
        else:
            basket_code = np.unique(np.asarray(baskets).astype(str), return_inverse=True)[1]
            per_user = _distinct_count(u, basket_code.astype(np.int64), user_ids.size)
            first = _first_of_groups(u, i, basket_code.astype(np.int64))
            u, i, ts, w = u[first], i[first], ts[first], w[first]
        return cls.from_indices(u, i, ts, w, tuple(user_ids), tuple(item_ids), per_user)

    @classmethod
    def from_indices(
        cls,
        users: IntArray,
        items: IntArray,
        timestamps: FloatArray,
        weights: FloatArray,
        user_ids: tuple[str, ...],
        item_ids: tuple[str, ...],
        baskets: IntArray | None = None,
    ) -> Interactions:
        """Build from already-encoded row/column indices (the splits use this)."""
        shape = (len(user_ids), len(item_ids))
        matrix = sp.csr_matrix((weights, (users, items)), shape=shape, dtype=np.float64)
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        last = _per_cell(matrix, users, items, timestamps)
        first = _per_cell(matrix, users, items, timestamps, earliest=True)
        if baskets is None:
            baskets = np.diff(matrix.indptr).astype(np.int64)
        return cls(matrix, user_ids, item_ids, last, baskets.astype(np.int64), first)

    @property
    def shape(self) -> tuple[int, int]:
        """``(users, items)``."""
        return (len(self.user_ids), len(self.item_ids))

    @property
    def now(self) -> float:
        """The latest timestamp seen: the reference "today" for recency decay (0 if empty)."""
        return float(self.last_seen.max()) if self.last_seen.size else 0.0

    @cached_property
    def user_index(self) -> dict[str, int]:
        """External user id → row."""
        return {uid: n for n, uid in enumerate(self.user_ids)}

    @cached_property
    def item_index(self) -> dict[str, int]:
        """External item id → column."""
        return {iid: n for n, iid in enumerate(self.item_ids)}

    def binary(self) -> Any:
        """The matrix with every stored weight set to 1 (what EASE and cosine expect)."""
        out = self.matrix.copy()
        out.data[:] = 1.0
        return out

    def decayed(self, half_life_days: float | None) -> Any:
        """The matrix with each cell scaled by ``2 ** (-age / half_life)``, age from :attr:`now`.

        ``None`` returns the weights unchanged. This is the recency signal: a cell bought last
        week keeps most of its weight, one bought a year ago little.
        """
        out = self.matrix.copy()
        if half_life_days is not None:
            age_days = (self.now - self.last_seen) / 86_400.0
            out.data *= np.exp2(-age_days / half_life_days)
        return out

    def history(self, user: int) -> tuple[IntArray, FloatArray]:
        """Item indices and weights of one user's row."""
        lo, hi = self.matrix.indptr[user], self.matrix.indptr[user + 1]
        return self.matrix.indices[lo:hi].astype(np.int64), self.matrix.data[lo:hi].copy()


def _as_str(values: Iterable[Any] | None) -> NDArray[np.str_]:
    return np.asarray([] if values is None else list(values)).astype(str)


def _distinct_count(owner: IntArray, code: IntArray, size: int) -> IntArray:
    """How many distinct ``code`` values each owner has."""
    if owner.size == 0:
        return np.zeros(size, dtype=np.int64)
    pairs = np.unique(np.stack([owner, code]), axis=1)
    return np.bincount(pairs[0], minlength=size).astype(np.int64)


def _first_of_groups(u: IntArray, i: IntArray, b: IntArray) -> IntArray:
    """Row positions of the first event of each distinct (user, item, basket) triple."""
    if u.size == 0:
        return np.zeros(0, dtype=np.int64)
    _, first = np.unique(np.stack([u, i, b]), axis=1, return_index=True)
    return np.sort(first).astype(np.int64)


def _per_cell(
    matrix: Any, users: IntArray, items: IntArray, ts: FloatArray, *, earliest: bool = False
) -> FloatArray:
    """Latest (or earliest) timestamp per stored cell after zero cells were dropped."""
    key = users.astype(np.int64) * matrix.shape[1] + items.astype(np.int64)
    order = np.lexsort((-ts if earliest else ts, key))
    key_sorted = key[order]
    last = np.r_[key_sorted[1:] != key_sorted[:-1], True]
    cell_keys, cell_ts = key_sorted[last], ts[order][last]
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    stored = rows.astype(np.int64) * matrix.shape[1] + matrix.indices
    return np.asarray(cell_ts[np.searchsorted(cell_keys, stored)], dtype=np.float64)
