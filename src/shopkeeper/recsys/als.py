"""Implicit-feedback matrix factorisation: ALS (Hu, Koren & Volinsky 2008) via ``implicit``.

Fitting is delegated to ``implicit``'s ``AlternatingLeastSquares`` (0.7.x, conjugate-gradient
solver, one thread: the caller's machine is shared and OpenBLAS threads fight with
``implicit``'s own; BLAS is pinned to one thread for the fit with ``threadpoolctl``). The
confidence of a cell is ``1 + alpha · weight``.

Scoring a fitted user uses its learned factors. A history vector (a visitor not in training,
or a fitted user plus this session's events) gets its factors by the same least-squares step
ALS itself takes, ``x = (YᵀC Y + λI)⁻¹ YᵀC p`` — so new activity changes the result without
retraining. ``similar_items`` is the cosine between item factors.

``implicit`` is imported when a model is built, so the rest of ``recsys`` imports without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Query, ScoringRecommender
from shopkeeper.recsys.interactions import FloatArray, Interactions

__all__ = ["Als", "AlsConfig"]


@dataclass(frozen=True)
class AlsConfig:
    """Attributes:
    factors: Latent dimensions.
    regularization: λ of the ridge penalty on both factor matrices.
    alpha: Confidence scale: ``c = 1 + alpha · weight``.
    iterations: ALS sweeps.
    """

    factors: int = 64
    regularization: float = 0.05
    alpha: float = 2.0
    iterations: int = 15

    def __post_init__(self) -> None:
        if self.factors < 1 or self.iterations < 1:
            raise Invalid("factors and iterations must be positive", detail={"field": "factors"})
        if self.regularization < 0 or self.alpha <= 0:
            raise Invalid("regularization/alpha out of range", detail={"field": "alpha"})


class Als(ScoringRecommender):
    """Latent-factor model; the seeded ``rng`` fixes its random start."""

    personalised = True

    def __init__(self, config: AlsConfig | None = None, *, rng: np.random.Generator) -> None:
        self.config = config or AlsConfig()
        self.rng = rng
        self.user_factors: FloatArray = np.zeros((0, 0))
        self.item_factors: FloatArray = np.zeros((0, 0))

    def _fit(self, interactions: Interactions) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        cfg = self.config
        seed = int(self.rng.integers(2**31 - 1))
        with threadpool_limits(1, "blas"):
            model: Any = AlternatingLeastSquares(
                factors=cfg.factors,
                regularization=cfg.regularization,
                alpha=cfg.alpha,
                iterations=cfg.iterations,
                dtype=np.float32,
                num_threads=1,
                random_state=seed,
            )
            model.fit(interactions.matrix.astype(np.float32), show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float64)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float64)

    def user_vectors(self, query: Query) -> FloatArray:
        """Factors per query row: learned ones for fitted rows, solved ones for histories."""
        if query.known:
            return self.user_factors[query.rows]
        y = self.item_factors
        reg = self.config.regularization * np.eye(y.shape[1])
        yty = y.T @ y
        out = np.zeros((query.history.shape[0], y.shape[1]))
        for n in range(query.history.shape[0]):
            lo, hi = query.history.indptr[n], query.history.indptr[n + 1]
            items = query.history.indices[lo:hi]
            if items.size == 0:
                continue
            conf = self.config.alpha * query.history.data[lo:hi]
            yi = y[items]
            a = yty + (yi.T * conf) @ yi + reg
            out[n] = np.linalg.solve(a, yi.T @ (1.0 + conf))
        return out

    def _scores(self, query: Query) -> FloatArray:
        return self.user_vectors(query) @ self.item_factors.T

    def _similar(self, item: int) -> FloatArray:
        y = self.item_factors
        norms = np.linalg.norm(y, axis=1) + 1e-12
        return np.asarray((y @ y[item]) / (norms * norms[item]), dtype=np.float64)
