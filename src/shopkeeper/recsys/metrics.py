"""Top-k ranking metrics, per user, on full-catalogue rankings.

Inputs are always the same pair: ``recommended`` — an (n × k) array of item indices, best
first, padded with ``-1`` — and ``relevant`` — an (n × items) sparse matrix whose stored cells
are the items each user went on to buy. Each metric returns one value per user so callers can
average over any group (tenure, segment); users with nothing relevant get ``nan`` and
:func:`mean` skips them.

Definitions (binary relevance, ``R`` the relevant set, ``hit(r)`` whether rank ``r`` is in it):

* Recall@k = hits / |R| (the classic definition, as in Microsoft Recommenders; it cannot reach 1
  when |R| > k).
* NDCG@k = Σ hit(r) / log2(r + 1) over the ideal Σ_{r ≤ min(|R|, k)} 1 / log2(r + 1).
* MAP@k = mean over users of Σ_r hit(r)·precision@r / min(|R|, k).
* HitRate@k = 1 if any of the k is relevant.

Example::

    >>> import scipy.sparse as sp
    >>> rel = sp.csr_matrix(np.array([[0, 1, 0, 1]]))
    >>> float(recall(np.array([[1, 2]]), rel)[0])
    0.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shopkeeper.recsys.interactions import FloatArray, IntArray

__all__ = [
    "average_precision",
    "coverage",
    "hit_rate",
    "hits",
    "mean",
    "ndcg",
    "novelty",
    "popularity_bias",
    "recall",
]


def hits(recommended: IntArray, relevant: Any) -> FloatArray:
    """(n × k) 0/1 matrix: whether each recommended slot is a relevant item."""
    rec = np.asarray(recommended, dtype=np.int64)
    n, k = rec.shape
    out = np.zeros((n, k))
    if rec.size == 0:
        return out
    indptr, indices = relevant.indptr, relevant.indices
    for u in range(n):
        truth = indices[indptr[u] : indptr[u + 1]]
        if truth.size:
            out[u] = np.isin(rec[u], truth) & (rec[u] >= 0)
    return out


def _sizes(relevant: Any) -> FloatArray:
    return np.asarray(np.diff(relevant.indptr), dtype=np.float64)


def _per_user(values: FloatArray, sizes: FloatArray) -> FloatArray:
    return np.where(sizes > 0, values, np.nan)


def recall(recommended: IntArray, relevant: Any) -> FloatArray:
    """Share of each user's relevant items that made the list."""
    sizes = _sizes(relevant)
    found = hits(recommended, relevant).sum(axis=1)
    return _per_user(found / np.maximum(sizes, 1), sizes)


def ndcg(recommended: IntArray, relevant: Any) -> FloatArray:
    """Normalised discounted cumulative gain with binary relevance."""
    h = hits(recommended, relevant)
    k = h.shape[1]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal_cum = np.concatenate([[0.0], np.cumsum(discount)])
    sizes = _sizes(relevant)
    ideal = ideal_cum[np.minimum(sizes, k).astype(np.int64)]
    return _per_user((h @ discount) / np.where(ideal > 0, ideal, 1.0), sizes)


def average_precision(recommended: IntArray, relevant: Any) -> FloatArray:
    """AP@k per user (average it for MAP@k)."""
    h = hits(recommended, relevant)
    k = h.shape[1]
    precision_at = np.cumsum(h, axis=1) / np.arange(1, k + 1)
    sizes = _sizes(relevant)
    denominator = np.maximum(np.minimum(sizes, k), 1)
    return _per_user((precision_at * h).sum(axis=1) / denominator, sizes)


def hit_rate(recommended: IntArray, relevant: Any) -> FloatArray:
    """1 where at least one recommended item is relevant."""
    return _per_user(
        (hits(recommended, relevant).sum(axis=1) > 0).astype(np.float64), _sizes(relevant)
    )


def coverage(recommended: IntArray, n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    rec = np.asarray(recommended)
    shown = np.unique(rec[rec >= 0])
    return float(shown.size / n_items) if n_items else 0.0


def novelty(recommended: IntArray, item_popularity: FloatArray) -> float:
    """Mean self-information ``-log2(p_i)`` of recommended items (higher = less obvious).

    ``item_popularity`` is each item's share of training users (0–1); items nobody bought get
    the share of one user so the logarithm stays finite.
    """
    rec = np.asarray(recommended)
    shown = rec[rec >= 0]
    if shown.size == 0:
        return float("nan")
    floor = item_popularity[item_popularity > 0].min() if (item_popularity > 0).any() else 1.0
    p = np.maximum(item_popularity[shown], floor)
    return float(np.mean(-np.log2(p)))


def popularity_bias(recommended: IntArray, item_popularity: FloatArray) -> float:
    """Average recommendation popularity (ARP): mean training-user share of recommended items."""
    rec = np.asarray(recommended)
    shown = rec[rec >= 0]
    return float(np.mean(item_popularity[shown])) if shown.size else float("nan")


def mean(values: FloatArray) -> float:
    """Mean over users that had something relevant (``nan`` entries skipped)."""
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")
