"""What a persona fit does: options and progress steps, importable without the heavy stack.

The API router and the CLI import this module at start-up; the service (scikit-learn, Ibis,
Arrow) is imported only when a fit or a read actually runs, so serving does not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Method = Literal["kmeans", "gmm", "auto"]
METHODS: tuple[Method, ...] = ("kmeans", "gmm", "auto")

#: Called with (step, steps done, steps in all) as a fit goes.
Progress = Callable[[str, int, int], None]
STEPS = ("loading the store", "computing features", "clustering", "writing cards", "storing")


@dataclass(frozen=True)
class FitOptions:
    """What ``fit`` does. ``k=None`` chooses k (silhouette for k-means, BIC for a mixture).

    Attributes:
        method: ``kmeans``, ``gmm`` or ``auto`` (both; the better silhouette wins).
        k: Number of personas, or None to choose it in 2..``k_max``.
        seed: Seeds every random choice of the fit.
        min_sessions: Web sessions a customer needs to shape the clusters; customers with
            fewer are assigned to the nearest persona afterwards.
        bootstrap_rounds: Refits for the stability estimate (0 skips it).
        k_max: Largest k tried.
    """

    method: Method = "auto"
    k: int | None = None
    seed: int = 0
    min_sessions: int = 5
    bootstrap_rounds: int = 5
    k_max: int = 10
