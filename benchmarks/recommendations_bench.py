"""Recommendations: training time and in-process serving latency per placement.

Run: ``.venv/bin/python -m benchmarks.recommendations_bench [--customers N] [--days D]
[--calls C]`` from the repo root. Prints a Markdown table and writes
``benchmarks/results/recommendations-<customers>.json``.

Data: the simulator's shop loaded into a fresh SQLite store through the Python API (not part of
the figures). Then ``shop.recommendations.train()`` is timed, and ``recommend`` is called
``--calls`` times per placement with random customers / products / carts drawn from the store,
single-threaded and in-process: the store queries (visitor, purchases, last events, stock) and
the model maths, without HTTP. It answers "does the request path fit the latency budget"; the
acceptance figure needs the real server: ``--http RATE`` then starts ``shopkeeper serve`` on
the same store and sends ``GET /v1/recommendations`` at RATE requests/s from another process
(open loop, ``benchmarks.loadgen``) for ``for_you`` (session re-ranking) and ``also_bought``
(precomputed), reporting p50/p99 from the intended send time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from benchmarks import loadgen
from benchmarks.loadgen import Request, basic_auth, build_request
from benchmarks.stores import BenchStore
from shopkeeper.application import Shopkeeper
from shopkeeper.models import Identity, Product
from shopkeeper.recommendations.schemas import PLACEMENTS
from shopkeeper.simulator.commands import simulate_to_store

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def recommendation_reads(
    *,
    host: str,
    key: str,
    placement: str,
    requests: int,
    customers: list[str],
    skus: list[str],
    seed: int = 5,
) -> list[Request]:
    """``GET /v1/recommendations`` for random customers (and products, where one is needed)."""
    rng = random.Random(seed)
    auth = basic_auth(key)
    out = []
    for _ in range(requests):
        path = f"/v1/recommendations?placement={placement}&customer={rng.choice(customers)}"
        if placement in ("also_bought", "bought_together", "similar"):
            path += f"&product={rng.choice(skus)}"
        out.append(Request(build_request("GET", path, host=host, auth=auth)))
    return out


def over_http(
    bench: BenchStore, rate: float, users: list[str], skus: list[str]
) -> list[dict[str, Any]]:
    """Open-loop load on the real server, one placement at a time, 10 s each."""
    server = bench.start()
    rows = []
    try:
        warm = {"Authorization": basic_auth(bench.read_key)}
        httpx.get(f"{server.url}/v1/recommendations?placement=trending", headers=warm, timeout=30)
        for placement in ("for_you", "also_bought"):
            spec = loadgen.LoadSpec(
                host="127.0.0.1",
                port=server.port,
                workload=recommendation_reads,
                workload_args={
                    "host": f"127.0.0.1:{server.port}",
                    "key": bench.read_key,
                    "placement": placement,
                    "requests": int(rate * 10),
                    "customers": users,
                    "skus": skus,
                },
                mode="open",
                rate=rate,
            )
            result = loadgen.run(spec, timeout=120)
            rows.append(
                {
                    "placement": placement,
                    "rate": rate,
                    "statuses": result.statuses,
                    **{k: round(v, 2) for k, v in result.percentiles().items()},
                }
            )
    finally:
        bench.stop()
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--http", type=float, default=None, help="Also load the real server.")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    http_rows: list[dict[str, Any]] = []
    with BenchStore("sqlite") as bench:
        tmp = str(bench.data_dir)
        shop = Shopkeeper.open(bench.settings.model_copy(update={"log_json": False}))
        shop.migrate()
        began = time.perf_counter()
        summary = simulate_to_store(shop, args.customers, args.days, args.seed, Path(tmp) / "t")
        load_seconds = time.perf_counter() - began
        began = time.perf_counter()
        model = shop.recommendations.train()
        train_seconds = time.perf_counter() - began
        with shop.db.sessions() as session:
            users = list(session.scalars(select(Identity.value).where(Identity.kind == "user_id")))
            skus = list(session.scalars(select(Product.sku)))
        shop.recommendations.recommend("trending")  # loads the model: not a request's cost
        rows: list[dict[str, Any]] = []
        for placement in PLACEMENTS:
            timings: list[float] = []
            counts: dict[str, int] = {}
            for _ in range(args.calls):
                kwargs: dict[str, Any] = {"customer": rng.choice(users)}
                if placement in ("also_bought", "bought_together", "similar", "trending"):
                    kwargs["product"] = rng.choice(skus)
                if placement == "cart":
                    kwargs["cart"] = rng.sample(skus, 2)
                started = time.perf_counter()
                result = shop.recommendations.recommend(placement, k=10, **kwargs)
                timings.append((time.perf_counter() - started) * 1000.0)
                counts[result.strategy] = counts.get(result.strategy, 0) + 1
            rows.append(
                {
                    "placement": placement,
                    "p50_ms": round(statistics.median(timings), 3),
                    "p95_ms": round(percentile(timings, 0.95), 3),
                    "p99_ms": round(percentile(timings, 0.99), 3),
                    "strategies": counts,
                }
            )
        shop.close()
        if args.http:
            http_rows = over_http(bench, args.http, users, skus)
    report = {
        "customers": args.customers,
        "days": args.days,
        "events": summary.accepted,
        "items": model.stats["items"],
        "orders": model.stats["orders"],
        "load_seconds": round(load_seconds, 1),
        "train_seconds": round(train_seconds, 2),
        "calls_per_placement": args.calls,
        "placements": rows,
        "http": http_rows,
    }
    print(
        f"{args.customers:,} customers, {summary.accepted:,} events, {model.stats['items']:,} "
        f"items, {model.stats['orders']:,} orders; train {train_seconds:.2f} s\n"
    )
    print("| placement | p50 ms | p95 ms | p99 ms | strategies |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        strategies = ", ".join(f"{k} {v}" for k, v in sorted(row["strategies"].items()))
        print(
            f"| {row['placement']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} "
            f"| {strategies} |"
        )
    if http_rows:
        print("\n| placement (HTTP, open loop) | rate | p50 ms | p99 ms | max ms | statuses |")
        print("|---|---:|---:|---:|---:|---|")
        for row in http_rows:
            print(
                f"| {row['placement']} | {row['rate']:.0f} | {row.get('p50_ms')} "
                f"| {row.get('p99_ms')} | {row.get('max_ms')} | {row['statuses']} |"
            )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"recommendations-{args.customers}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
