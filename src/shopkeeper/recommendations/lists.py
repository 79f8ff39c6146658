"""Ranked lists: each row of an item-item matrix (or each group of a score vector) already
sorted best first, so serving a precomputed placement is an array slice, not a sort.

Pure numpy/scipy (no web or database): built once per model version, when it is loaded or
trained, and swapped in with it. Order within a list is score descending, then item index
ascending — item indices follow sorted skus, so ties break by sku as
:func:`~shopkeeper.recommendations.rules.apply_rules` does.

Example::

    >>> import scipy.sparse as sp
    >>> lists = RankedLists.from_matrix(sp.csr_matrix([[0.0, 0.2, 0.9], [0.0, 0.0, 0.0]]))
    >>> lists.row(0)[0].tolist(), lists.row(1)[0].tolist()
    ([2, 1], [])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopkeeper.recsys.interactions import FloatArray

__all__ = ["RankedLists", "ranked", "ranked_groups", "top_similar"]

IntArray = Any  # numpy int64 array


@dataclass(frozen=True)
class RankedLists:
    """Row ``i`` is ``items[indptr[i]:indptr[i + 1]]`` with ``scores`` alike, best first."""

    indptr: IntArray
    items: IntArray
    scores: FloatArray

    @classmethod
    def from_matrix(cls, matrix: Any) -> RankedLists:
        """Each row's positive entries, sorted by score descending then column ascending."""
        m = sp.csr_matrix(matrix, dtype=np.float64)
        m.eliminate_zeros()
        counts = np.diff(m.indptr)
        rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), counts)
        keep = np.isfinite(m.data) & (m.data > 0)
        rows, cols, data = rows[keep], m.indices[keep].astype(np.int64), m.data[keep]
        order = np.lexsort((cols, -data, rows))
        indptr = np.zeros(m.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=m.shape[0]), out=indptr[1:])
        return cls(indptr, cols[order], data[order])

    @classmethod
    def from_groups(cls, groups: Sequence[tuple[IntArray, FloatArray]]) -> RankedLists:
        """One list per group from ``(items, scores)`` pairs already ranked."""
        sizes = [len(items) for items, _ in groups]
        indptr = np.zeros(len(groups) + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        items = np.concatenate([i for i, _ in groups]) if groups else np.zeros(0, np.int64)
        scores = np.concatenate([s for _, s in groups]) if groups else np.zeros(0)
        return cls(indptr, items.astype(np.int64), scores.astype(np.float64))

    def row(self, i: int) -> tuple[IntArray, FloatArray]:
        """(items, scores) of list ``i``, best first (views: do not modify)."""
        start, stop = self.indptr[i], self.indptr[i + 1]
        return self.items[start:stop], self.scores[start:stop]

    def __len__(self) -> int:
        return len(self.indptr) - 1


def ranked(scores: FloatArray) -> tuple[IntArray, FloatArray]:
    """Items with a positive score, best first (ties by item index), and their scores."""
    values = np.asarray(scores, dtype=np.float64)
    positive = np.flatnonzero(np.isfinite(values) & (values > 0))
    order = positive[np.lexsort((positive, -values[positive]))]
    return order, values[order]


def ranked_groups(scores: FloatArray, codes: IntArray, n_groups: int) -> RankedLists:
    """One ranked list per group code (e.g. per top category) from one score vector."""
    items, values = ranked(scores)
    group_of = np.asarray(codes, dtype=np.int64)[items]
    order = np.argsort(group_of, kind="stable")  # keeps the rank order inside each group
    indptr = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(group_of, minlength=n_groups), out=indptr[1:])
    return RankedLists(indptr, items[order], values[order])


def top_similar(features: Any, boost: Any, *, weight: float, keep: int) -> Any:
    """Per item, its ``keep`` best content neighbours (itself included) blended with behaviour.

    Score = cosine of the content vectors ``+ weight × boost`` (the item's row-scaled
    also-bought row), computed a block of rows at a time so a big catalogue never needs its
    dense item × item matrix at once. Returns a CSR matrix holding only the kept entries.
    """
    f = sp.csr_matrix(features, dtype=np.float64)
    b = sp.csr_matrix(boost, dtype=np.float64)
    n = f.shape[0]
    block = max(1, min(512, (1 << 22) // max(n, 1)))
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    for start in range(0, n, block):
        stop = min(start + block, n)
        dense = np.asarray((f[start:stop] @ f.T).toarray())
        if b.nnz:
            dense += weight * np.asarray(b[start:stop].toarray())
        for offset, values in enumerate(dense):
            items = _top(values, keep)
            rows.append(np.full(items.size, start + offset, dtype=np.int64))
            cols.append(items)
            vals.append(values[items])
    if not rows:
        return sp.csr_matrix((n, n))
    data = (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols)))
    return sp.csr_matrix(data, shape=(n, n))


def _top(values: FloatArray, keep: int) -> IntArray:
    """Indices of the ``keep`` largest positive values (every tie at the cut kept)."""
    positive = np.flatnonzero(np.isfinite(values) & (values > 0))
    if positive.size > keep:
        cut = np.partition(values[positive], positive.size - keep)[positive.size - keep]
        positive = positive[values[positive] >= cut]
    return positive
