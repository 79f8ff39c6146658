"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data").

A closed-form item-item model: with the Gram matrix ``G = XᵀX + λI`` of the binary user × item
matrix and ``P = G⁻¹``, the weights are ``B = I − P · diagMat(1 / diag(P))`` — the ridge
regression of every item on all the others under the constraint ``diag(B) = 0`` (an item may
not predict itself). A user's scores are ``x_u · B``.

Cost: one dense items × items inverse — about a second for 4,000 items, but memory and time
grow with the cube of the catalogue, so beyond ~20,000 items fit on the most-bought items only.
``λ`` (``l2``) is the one knob; Steck reports values in the hundreds for datasets of this size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Query, ScoringRecommender
from shopkeeper.recsys.interactions import FloatArray, IntArray, Interactions

__all__ = ["Ease", "EaseConfig"]


@dataclass(frozen=True)
class EaseConfig:
    """Attributes:
    l2: The ridge penalty λ added to the Gram matrix's diagonal.
    """

    l2: float = 200.0

    def __post_init__(self) -> None:
        if self.l2 <= 0:
            raise Invalid("l2 must be positive", detail={"field": "l2"})


class Ease(ScoringRecommender):
    """Linear item-item autoencoder with a zero diagonal, solved in closed form."""

    personalised = True
    by_neighbours = True

    def __init__(self, config: EaseConfig | None = None) -> None:
        self.config = config or EaseConfig()
        self.weights: FloatArray = np.zeros((0, 0))

    def _fit(self, interactions: Interactions) -> None:
        x = interactions.binary()
        gram = np.asarray((x.T @ x).toarray(), dtype=np.float64)
        gram[np.diag_indices_from(gram)] += self.config.l2
        p = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        b = -p / np.diag(p)
        np.fill_diagonal(b, 0.0)
        self.weights = np.ascontiguousarray(b)  # inv() answers in Fortran order

    def _scores(self, query: Query) -> FloatArray:
        history = query.indicator()
        return np.asarray(history @ self.weights, dtype=np.float64)

    def _similar(self, item: int) -> FloatArray:
        return np.array(self.weights[item], dtype=np.float64)

    def _similar_block(self, rows: IntArray, columns: IntArray) -> FloatArray:
        return np.asarray(
            self.weights[rows[:, None], columns], dtype=np.float64
        )  # not np.ix_: 5× the cost

    def state(self) -> dict[str, Any]:
        return {"weights": self.weights}

    def _restore(self, state: Mapping[str, Any]) -> None:
        self.weights = np.ascontiguousarray(state["weights"], dtype=np.float64)
