"""Item-to-item co-occurrence ("customers who bought this also bought"), three weightings.

From the binary user × item matrix ``X`` the co-occurrence counts ``C = XᵀX`` are turned into a
similarity, the diagonal dropped and each row pruned to its ``neighbours`` strongest entries:

* ``cosine``: ``C_ij / (sqrt(n_i · n_j) + shrink)`` — the classic item-kNN (``implicit``'s
  ``CosineRecommender``); ``shrink`` damps pairs seen by few users.
* ``lift``: ``C_ij · N / (n_i · n_j)`` — observed over expected co-occurrence; items bought
  together more often than chance, not just popular ones. Pairs with fewer than ``min_support``
  shared users are dropped, because lift over tiny counts is noise.
* ``bm25``: cosine over ``X`` reweighted with Okapi BM25 (``K1``, ``B``), which down-weights
  heavy users and very popular items, as ``implicit``'s ``BM25Recommender``.

A user's score for item ``j`` is ``Σ_i h_i · S_ij`` over the history ``h``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Query, ScoringRecommender
from shopkeeper.recsys.interactions import FloatArray, IntArray, Interactions

__all__ = ["CooccurrenceConfig", "ItemKNN", "prune_rows"]


@dataclass(frozen=True)
class CooccurrenceConfig:
    """Attributes:
    similarity: ``cosine``, ``lift`` or ``bm25``.
    neighbours: Entries kept per item (``None`` keeps all).
    shrink: Added to the cosine denominator.
    min_support: Smallest co-occurrence count kept (``lift`` and the others alike).
    k1: BM25 term saturation.
    b: BM25 length normalisation.
    """

    similarity: Literal["cosine", "lift", "bm25"] = "cosine"
    neighbours: int | None = 100
    shrink: float = 0.0
    min_support: int = 1
    k1: float = 1.2
    b: float = 0.75

    def __post_init__(self) -> None:
        if self.similarity not in ("cosine", "lift", "bm25"):
            raise Invalid("unknown similarity", detail={"field": "similarity"})
        if self.neighbours is not None and self.neighbours < 1:
            raise Invalid("neighbours must be at least 1", detail={"field": "neighbours"})
        if self.shrink < 0 or self.min_support < 1:
            raise Invalid("shrink/min_support out of range", detail={"field": "shrink"})


class ItemKNN(ScoringRecommender):
    """Item-item neighbourhood model over purchase co-occurrence."""

    personalised = True
    by_neighbours = True

    def __init__(self, config: CooccurrenceConfig | None = None) -> None:
        self.config = config or CooccurrenceConfig()
        self.similarity: Any = sp.csr_matrix((0, 0))

    def _fit(self, interactions: Interactions) -> None:
        cfg = self.config
        x = interactions.binary()
        counts = (x.T @ x).tocsr()
        counts.setdiag(0)
        counts.eliminate_zeros()
        if cfg.min_support > 1:
            counts.data[counts.data < cfg.min_support] = 0
            counts.eliminate_zeros()
        n_i = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
        if cfg.similarity == "bm25":
            weighted = _bm25(interactions.matrix, cfg.k1, cfg.b)
            norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=0)).ravel())
            dots = sp.csr_matrix((weighted.T @ weighted).multiply(counts > 0))
            coo = dots.tocoo()
            values = coo.data / (norms[coo.row] * norms[coo.col] + cfg.shrink + 1e-12)
        else:
            coo = counts.tocoo()
            if cfg.similarity == "cosine":
                values = coo.data / (np.sqrt(n_i[coo.row] * n_i[coo.col]) + cfg.shrink)
            else:
                values = coo.data * x.shape[0] / (n_i[coo.row] * n_i[coo.col])
        sim = sp.csr_matrix((values, (coo.row, coo.col)), shape=counts.shape)
        self.similarity = prune_rows(sim, cfg.neighbours)

    def _scores(self, query: Query) -> FloatArray:
        history = query.indicator()
        return np.asarray((history @ self.similarity).toarray(), dtype=np.float64)

    def _similar(self, item: int) -> FloatArray:
        return np.asarray(self.similarity[item].toarray(), dtype=np.float64).ravel()

    def _similar_block(self, rows: IntArray, columns: IntArray) -> FloatArray:
        return np.asarray(self.similarity[rows].toarray()[:, columns], dtype=np.float64)

    def state(self) -> dict[str, Any]:
        return {"similarity": self.similarity}

    def _restore(self, state: Mapping[str, Any]) -> None:
        self.similarity = sp.csr_matrix(state["similarity"], dtype=np.float64)


def _bm25(matrix: Any, k1: float, b: float) -> Any:
    """Okapi BM25 weights of a user × item matrix (users are the "documents")."""
    x = sp.coo_matrix(matrix, dtype=np.float64)
    n_users = max(x.shape[0], 1)
    idf = np.log(n_users / (1.0 + np.bincount(x.col, minlength=x.shape[1])))
    idf = np.maximum(idf, 0.0) + 1e-3
    length = np.bincount(x.row, weights=x.data, minlength=x.shape[0])
    avg = length.mean() if length.size else 1.0
    norm = k1 * (1.0 - b + b * length / max(avg, 1e-12))
    data = x.data * (k1 + 1.0) / (norm[x.row] + x.data) * idf[x.col]
    return sp.csr_matrix((data, (x.row, x.col)), shape=x.shape)


def prune_rows(matrix: Any, keep: int | None) -> Any:
    """Keep the ``keep`` largest entries of each row of a CSR matrix (ties: lower column)."""
    m = sp.csr_matrix(matrix)
    m.sort_indices()
    if keep is None:
        return m
    counts = np.diff(m.indptr)
    if counts.size == 0 or counts.max() <= keep:
        return m
    rows = np.repeat(np.arange(m.shape[0]), counts)
    order = np.lexsort((m.indices, -m.data, rows))
    rank = np.arange(order.size) - np.repeat(m.indptr[:-1], counts)
    chosen = order[rank < keep]
    out = sp.csr_matrix((m.data[chosen], (rows[chosen], m.indices[chosen])), shape=m.shape)
    out.sort_indices()
    return out
