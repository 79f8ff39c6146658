"""Personas: clustering time on 100,000 customers (k chosen, stability, cards).

Run: ``.venv/bin/python -m benchmarks --only personas [--customers N] [--quick]`` (or
``.venv/bin/python -m benchmarks.personas_bench``) from the repo root. Writes
``benchmarks/results/personas-<backend>[-quick].json``; the store backend plays no part.

Data: **synthesised** feature rows, not simulated shops (a year of 100k simulated customers is
~15M events and an hour of ingest). Seven planted groups, each a random centre in the persona
feature space (shares drawn in [0, 1], counts and money log-normal) with per-customer noise of
the size the simulator shows for customers with 5+ sessions, plus eight category shares. The
figures time :func:`shopkeeper.personas.clustering.fit_clusters` (``auto``: k-means with k by
silhouette and a diagonal Gaussian mixture with k by BIC, each over k = 2..10 on a 4,000-row
sample, the final fit on every row, five bootstrap refits for stability) and the persona cards,
with wall and CPU time; the ARI against the planted groups checks the fit found them.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from shopkeeper.personas.cards import describe_clusters
from shopkeeper.personas.clustering import ClusteringConfig, adjusted_rand, fit_clusters
from shopkeeper.personas.features import all_features

GROUPS = 7
CATEGORIES = ("women", "men", "kids", "baby", "toddler", "gifts", "home", "beauty")


def synthesise(customers: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw feature rows (customers x features) from ``GROUPS`` planted groups, and the truth."""
    rng = np.random.default_rng(seed)
    features = all_features(CATEGORIES)
    truth = rng.integers(0, GROUPS, customers)
    columns = []
    for f in features:
        if f.unit == "share":
            centre = rng.beta(1.2, 3.0, GROUPS)
            values = np.clip(centre[truth] + rng.normal(0, 0.12, customers), 0, 1)
        elif f.unit == "days":
            centre = rng.uniform(10, 300, GROUPS)
            values = np.maximum(centre[truth] + rng.normal(0, 40, customers), 0)
        else:
            centre = rng.uniform(0.5, 4.0, GROUPS)  # log scale
            values = np.expm1(np.maximum(centre[truth] + rng.normal(0, 0.5, customers), 0))
        columns.append(values)
    return np.column_stack(columns), truth


def run(customers: int, *, method: str = "auto", seed: int = 0) -> dict[str, Any]:
    """Time synthesis (not counted), the clustering and the cards."""
    x, truth = synthesise(customers, seed)
    features = all_features(CATEGORIES)
    logged = np.column_stack(
        [np.log1p(x[:, j]) if f.log else x[:, j] for j, f in enumerate(features)]
    )
    config = ClusteringConfig(method=method)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter(), time.process_time()
    fit = fit_clusters(logged, config, np.random.default_rng(seed))
    fit_wall, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    cards = describe_clusters(x, fit.labels, fit.k, features, currency="€")
    cards_wall, cards_cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "benchmark": "personas",
        "customers": customers,
        "features": len(features),
        "method": fit.method,
        "k": fit.k,
        "planted_k": GROUPS,
        "ari_vs_planted": round(adjusted_rand(truth, fit.labels), 4),
        "stability": None if fit.stability is None else round(fit.stability, 4),
        "fit_wall_s": round(fit_wall, 2),
        "fit_cpu_s": round(fit_cpu, 2),
        "cards_wall_s": round(cards_wall, 3),
        "cards_cpu_s": round(cards_cpu, 3),
        "example_card": cards[0].text,
        "data": "synthesised feature rows (7 planted groups), see benchmarks/personas_bench.py",
    }


def main() -> None:
    import argparse
    import json

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--method", choices=("kmeans", "gmm", "auto"), default="auto")
    parser.add_argument("--quick", action="store_true", help="5,000 customers")
    args = parser.parse_args()
    customers = 5_000 if args.quick else args.customers
    print(json.dumps(run(customers, method=args.method), indent=2))


if __name__ == "__main__":
    main()
