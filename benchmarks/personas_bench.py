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

``--simulated CUSTOMERS:DAYS:SEED`` (repeatable; ``--store-dir`` keeps the shops) instead scores
the fit as ``shopkeeper personas`` runs it (default options) on simulated shops loaded through
ingest: the adjusted Rand index against the planted personas over the store customers with 5+
web sessions (whom the clusters are fitted on), with 1+ session, and over every active profile.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np

from shopkeeper.ops.logging import configure_logging
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


def simulated(customers: int, days: int, seed: int, root: Path) -> str:
    """A Markdown row: personas of a simulated shop against its planted ones."""
    from sqlalchemy import select

    from benchmarks.simulated_truth import simulated as simulated_shop
    from shopkeeper.models import CustomerPersona
    from shopkeeper.personas.options import FitOptions
    from shopkeeper.simulator.commands import truth_of_customers

    shop, _ = simulated_shop(root, customers, days, seed)
    people = [json.loads(line) for line in (root / "truth" / "customers.jsonl").open()]
    truth = {cid: row["persona"] for cid, row in truth_of_customers(shop, people).items()}
    cpu = time.process_time()
    with shop.db.transaction() as session:
        matrix = shop.personas.features(session)
        model = shop.personas.fit(session, FitOptions(), matrix=matrix)
    cpu = time.process_time() - cpu
    with shop.db.sessions() as session:
        rows = session.execute(select(CustomerPersona.customer_id, CustomerPersona.cluster))
        assigned = dict(rows.all())
    sessions = dict(zip(matrix.customer_ids, matrix.column("sessions").tolist(), strict=True))
    shop.close()
    cells = []
    for least in (5, 1, 0):
        ids = [c for c in matrix.customer_ids if sessions[c] >= least and c in truth]
        ari = adjusted_rand([truth[c] for c in ids], [assigned[c] for c in ids])
        cells.append(f"{ari:.3f} (n = {len(ids):,})")
    names = ", ".join(p.name for p in model.personas)
    return (
        f"| {customers:,} × {days} days, seed {seed} | {model.method}, k = {model.k} "
        f"| {' | '.join(cells)} | {model.stability:.2f} | {cpu:.1f} | {names} |"
    )


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--method", choices=("kmeans", "gmm", "auto"), default="auto")
    parser.add_argument("--quick", action="store_true", help="5,000 customers")
    parser.add_argument("--simulated", action="append", metavar="CUSTOMERS:DAYS:SEED")
    parser.add_argument("--store-dir", type=Path, help="keep simulated shops here and reuse them")
    args = parser.parse_args()
    if args.simulated:
        configure_logging("warning", json=False)
        print(
            "| simulated shop | fit | ARI, 5+ sessions | ARI, 1+ session | ARI, all active "
            "| stability | fit CPU s | personas |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---|")
        with TemporaryDirectory() as scratch:
            base = args.store_dir or Path(scratch)
            for spec in args.simulated:
                customers, days, seed = (int(part) for part in spec.split(":"))
                root = base / f"sim-{customers}-{days}-{seed}"
                print(simulated(customers, days, seed, root), flush=True)
        return
    customers = 5_000 if args.quick else args.customers
    print(json.dumps(run(customers, method=args.method), indent=2))


if __name__ == "__main__":
    main()
