"""Frequently bought together: basket association, and the basket-completion test that measures it.

``bought_together`` is about *one basket*, not one customer: two items belong together when
they share baskets more often than their popularity alone explains. From the binary basket ×
item matrix ``B`` (``n_i`` baskets hold item ``i``, ``C = BᵀB`` counts shared baskets, ``N``
baskets in all) :func:`association` keeps the pairs with

* support ``C_ij ≥ min_support`` (lift over one or two shared baskets is noise), and
* lift ``C_ij · N / (n_i · n_j) > 1`` (more often together than chance — so the bestseller does
  not pair with everything),

and scores them, each row pruned to ``neighbours``, by

* ``cosine`` (default): ``C_ij / sqrt(n_i · n_j)`` (the Ochiai coefficient), the geometric
  mean of the two confidences ``P(j | i)`` and ``P(i | j)`` — so a bestseller ``j``, which
  every basket's items point to with high ``P(j | i)``, does not win every basket; or
* ``confidence``: ``P(j | i) = C_ij / n_i``, the textbook rule strength.

On Online Retail's validation baskets cosine completes a basket about a third more often than
confidence (HitRate@10 0.29 against 0.22; BENCHMARKS.md), which is why it is the default.

The test (:func:`hide_one`, :func:`complete`, :func:`hit_rate_mrr`): take every basket after
the cut with at least two distinct known items, hide one chosen at random (seeded), rank the
catalogue from the items left — ``Σ_{i in query} S_i·`` over an item-item matrix ``S``, the
query's own items excluded — and ask whether the hidden item is in the top ``k`` (HitRate@k)
and how high (MRR@k, 0 when not in the list). Any model that yields an item-item matrix — our
association, raw co-counts, a peer's ``similar_items`` — is scored the same way.

Example::

    >>> b = basket_matrix([0, 0, 1, 1, 2], [0, 1, 0, 1, 2], n_items=3)
    >>> association(b, min_support=2, measure="confidence").toarray()[0]
    array([0., 1., 0.])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import top_k
from shopkeeper.recsys.cooccurrence import prune_rows
from shopkeeper.recsys.interactions import FloatArray, IntArray

__all__ = [
    "BasketTest",
    "association",
    "basket_matrix",
    "co_counts",
    "complete",
    "hide_one",
    "hit_rate_mrr",
]


def basket_matrix(baskets: ArrayLike, items: ArrayLike, n_items: int) -> Any:
    """Binary ``csr_matrix`` (baskets × items) from parallel basket-row / item-column indices.

    A basket that lists an item on several lines holds it once.
    """
    rows = np.asarray(baskets, dtype=np.int64)
    cols = np.asarray(items, dtype=np.int64)
    if rows.shape != cols.shape:
        raise Invalid("basket and item columns differ in length", detail={"field": "baskets"})
    n_baskets = int(rows.max()) + 1 if rows.size else 0
    out = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n_baskets, n_items))
    out.sum_duplicates()
    out.data[:] = 1.0
    return out


def co_counts(baskets: Any) -> Any:
    """Shared-basket counts ``C = BᵀB`` without the diagonal: the raw co-count baseline."""
    b = sp.csr_matrix(baskets, dtype=np.float64)
    counts = sp.csr_matrix(b.T @ b)
    counts.setdiag(0)
    counts.eliminate_zeros()
    return counts


def association(
    baskets: Any,
    *,
    min_support: int = 2,
    neighbours: int | None = 50,
    measure: Literal["cosine", "confidence"] = "cosine",
) -> Any:
    """Association strength for pairs with support ≥ ``min_support`` and lift > 1.

    Args:
        baskets: Binary basket × item matrix (:func:`basket_matrix`).
        min_support: Fewest shared baskets for a pair to count.
        neighbours: Entries kept per item row (``None``: all).
        measure: ``cosine`` (``C_ij / sqrt(n_i · n_j)``) or ``confidence`` (``C_ij / n_i``).

    Raises:
        Invalid: When ``min_support`` is below 1 or the measure is unknown.
    """
    if min_support < 1:
        raise Invalid("min_support must be at least 1", detail={"field": "min_support"})
    if measure not in ("cosine", "confidence"):
        raise Invalid("measure must be cosine or confidence", detail={"field": "measure"})
    b = sp.csr_matrix(baskets, dtype=np.float64)
    n_baskets, n_items = b.shape
    counts = sp.coo_matrix(co_counts(b))
    n_i = np.asarray(b.sum(axis=0), dtype=np.float64).ravel()
    keep = counts.data >= min_support
    r, c, support = counts.row[keep], counts.col[keep], counts.data[keep]
    lift = support * max(n_baskets, 1) / (n_i[r] * n_i[c])
    good = lift > 1.0
    r, c, support = r[good], c[good], support[good]
    strength = support / np.sqrt(n_i[r] * n_i[c]) if measure == "cosine" else support / n_i[r]
    matrix = sp.csr_matrix((strength, (r, c)), shape=(n_items, n_items))
    return prune_rows(matrix, neighbours)


@dataclass(frozen=True, eq=False)
class BasketTest:
    """Attributes:
    queries: ``csr_matrix`` (tests × items), the items left in each basket.
    hidden: The hidden item per test (its column).
    """

    queries: Any
    hidden: IntArray

    def __len__(self) -> int:
        return int(self.hidden.size)


def hide_one(baskets: Any, rng: np.random.Generator) -> BasketTest:
    """One test per basket with ≥ 2 items: a uniformly drawn item is hidden, the rest query."""
    b = sp.csr_matrix(baskets, dtype=np.float64)
    b.sum_duplicates()
    sizes = np.diff(b.indptr)
    eligible = np.flatnonzero(sizes >= 2)
    picks = b.indptr[eligible] + (rng.random(eligible.size) * sizes[eligible]).astype(np.int64)
    hidden = b.indices[picks].astype(np.int64)
    rest = b[eligible].tolil()
    for n, item in enumerate(hidden):
        rest[n, int(item)] = 0
    queries = sp.csr_matrix(rest)
    queries.eliminate_zeros()
    queries.data[:] = 1.0
    return BasketTest(queries, hidden)


def complete(similarity: Any, queries: Any, k: int, batch: int = 2048) -> IntArray:
    """Top ``k`` per query from ``Σ`` of the query items' rows of ``similarity``.

    The query's own items are never returned; items without evidence are padded with ``-1``.
    """
    sim = sp.csr_matrix(similarity, dtype=np.float64)
    q = sp.csr_matrix(queries, dtype=np.float64)
    if sim.shape[0] != q.shape[1]:
        raise Invalid("similarity and queries differ in items", detail={"field": "similarity"})
    out = np.full((q.shape[0], k), -1, dtype=np.int64)
    for lo in range(0, q.shape[0], batch):
        part = q[lo : lo + batch]
        scores = np.asarray((part @ sim).toarray(), dtype=np.float64)
        scores[scores <= 0] = -np.inf
        out[lo : lo + batch], _ = top_k(scores, k, part)
    return out


def hit_rate_mrr(recommended: IntArray, hidden: IntArray) -> tuple[float, float]:
    """HitRate@k and MRR@k of the hidden items in the top-``k`` lists (``nan`` if no tests)."""
    rec = np.asarray(recommended, dtype=np.int64)
    target = np.asarray(hidden, dtype=np.int64).reshape(-1, 1)
    if rec.shape[0] == 0:
        return float("nan"), float("nan")
    found = (rec == target) & (rec >= 0)
    hit = found.any(axis=1)
    rank = np.where(hit, found.argmax(axis=1) + 1, 0)
    reciprocal: FloatArray = np.where(hit, 1.0 / np.maximum(rank, 1), 0.0)
    return float(hit.mean()), float(reciprocal.mean())
