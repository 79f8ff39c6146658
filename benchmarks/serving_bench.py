"""Recommendation serving on a store of >= 100,000 customers: CPU per request in-process, then
the real server under open-loop load at fixed rates (issue 6's serving acceptance).

Run from the repo root::

    .venv/bin/python -m benchmarks.serving_bench --store-dir /tmp/shopkeeper-serving \\
        [--customers 100000] [--days 30] [--calls 300] [--rates 500 1000] [--duration 10] \\
        [--workers 1] [--profile for_you]

Data: the shop simulator (``simulate_to_store``: catalogue, identities, merges, orders and
views through the real ingest path) into a SQLite store kept in ``--store-dir`` and reused by
later runs (building 100,000 customers takes ~20 min on a loaded 2-core machine; loading is not
part of any figure). The model is trained once per store.

1. In-process: ``recommend`` ``--calls`` times per placement with random known customers
   (userIds), products and carts; wall and CPU (``time.process_time``) per call. CPU ms per
   request is the figure that stays stable on a shared machine. ``--profile PLACEMENT`` prints
   a pyinstrument profile of those calls. The same calls are then sent through the whole ASGI
   app in-process ("app CPU ms / request": middleware, routing, key check, rendering; no
   server, no socket), so the three layers — service, framework, server and kernel — can be
   told apart.
2. Over HTTP: ``python -m shopkeeper serve`` on the store (``--workers`` processes), and
   ``benchmarks.loadgen`` in another process sending ``GET /v1/recommendations`` open-loop at
   each rate for ``--duration`` seconds per placement — latency from the *intended* send time,
   so queueing is charged. Server CPU per request is read from ``/proc`` for the server
   process and its workers.

Writes ``benchmarks/results/serving-<customers>[-<label>].json`` and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import func, select
from starlette.types import Message

from benchmarks import loadgen
from benchmarks.loadgen import Request, basic_auth, build_request, tree_cpu_seconds
from benchmarks.stores import RESULTS, BenchStore, machine
from shopkeeper.application import Shopkeeper
from shopkeeper.models import Customer, Event, Identity, Order
from shopkeeper.simulator.commands import simulate_to_store

#: Placements measured: precomputed lists, then session re-ranked ones.
PRECOMPUTED = ("also_bought", "bought_together", "similar", "trending")
SESSION = ("for_you", "cart")
PLACEMENTS = PRECOMPUTED + SESSION


def build(store: BenchStore, customers: int, days: int, seed: int) -> dict[str, Any]:
    """Simulate the shop into the store once (marker ``loaded.json``), train once."""
    marker = store.data_dir / "loaded.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    settings = store.settings.model_copy(update={"sqlite_synchronous": "OFF", "log_json": False})
    shop = Shopkeeper.open(settings)
    try:
        began = time.perf_counter()
        with shop.db.sessions() as session:
            loaded = session.scalar(select(func.count()).select_from(Event))
        if not loaded:  # a store simulated earlier with the same parameters is used as it is
            simulate_to_store(shop, customers, days, seed, store.data_dir / "truth", parallel=True)
        load_seconds = time.perf_counter() - began
        began, cpu = time.perf_counter(), time.process_time()
        model = shop.recommendations.train()
        train = (time.perf_counter() - began, time.process_time() - cpu)
        with shop.db.sessions() as session:
            count = session.scalar(
                select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_(None))
            )
            events = session.scalar(select(func.count()).select_from(Event))
            orders = session.scalar(select(func.count()).select_from(Order))
    finally:
        shop.close()
    info = {
        "data": f"simulator: {customers:,} simulated customers, {days} days, seed {seed}",
        "load_seconds": round(load_seconds, 1),
        "store_customers": count,
        "store_events": events,
        "store_orders": orders,
        "model_items": model.stats["items"],
        "train_wall_s": round(train[0], 2),
        "train_cpu_s": round(train[1], 2),
    }
    marker.write_text(json.dumps(info, indent=2))
    return info


def sample(shop: Shopkeeper, seed: int) -> tuple[list[str], list[str]]:
    """Known customers' userIds and the skus the model knows."""
    with shop.db.sessions() as session:
        users = list(session.scalars(select(Identity.value).where(Identity.kind == "user_id")))
    rng = random.Random(seed)
    rng.shuffle(users)
    return users[:20_000], list(shop.recommendations.model().item_ids)


def arguments(
    placement: str, rng: random.Random, users: list[str], skus: list[str]
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"customer": rng.choice(users)}
    if placement in ("also_bought", "bought_together", "similar", "trending"):
        kwargs["product"] = rng.choice(skus)
    if placement == "cart":
        kwargs["cart"] = rng.sample(skus, 2)
    return kwargs


def in_process(
    shop: Shopkeeper, users: list[str], skus: list[str], calls: int, seed: int, profile: str | None
) -> list[dict[str, Any]]:
    """Per placement: wall and CPU ms per ``recommend`` call, and the strategies used."""
    rows = []
    for placement in PLACEMENTS:
        rng = random.Random(seed)
        requests = [arguments(placement, rng, users, skus) for _ in range(calls)]
        for kwargs in requests[:20]:  # warm caches (first stock snapshot, masks)
            shop.recommendations.recommend(placement, k=10, **kwargs)
        profiler = None
        if profile == placement:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
        walls: list[float] = []
        strategies: dict[str, int] = {}
        cpu = time.process_time()
        for kwargs in requests:
            started = time.perf_counter()
            result = shop.recommendations.recommend(placement, k=10, **kwargs)
            walls.append((time.perf_counter() - started) * 1000)
            strategies[result.strategy] = strategies.get(result.strategy, 0) + 1
        cpu_ms = (time.process_time() - cpu) * 1000 / calls
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        ordered = sorted(walls)
        rows.append(
            {
                "placement": placement,
                "cpu_ms": round(cpu_ms, 3),
                "p50_ms": round(statistics.median(walls), 3),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
                "strategies": strategies,
            }
        )
    return rows


def recommendation_reads(
    *,
    host: str,
    key: str,
    placement: str,
    requests: int,
    users: list[str],
    skus: list[str],
    seed: int = 5,
) -> list[Request]:
    """``GET /v1/recommendations`` for random known customers (products/carts where needed)."""
    rng = random.Random(seed)
    auth = basic_auth(key)
    out = []
    for _ in range(requests):
        path = "/v1/recommendations?" + _query(placement, arguments(placement, rng, users, skus))
        out.append(Request(build_request("GET", path, host=host, auth=auth)))
    return out


def _query(placement: str, kwargs: dict[str, Any]) -> str:
    query = f"placement={placement}&k=10&customer={quote(kwargs['customer'])}"
    if "product" in kwargs:
        query += f"&product={quote(kwargs['product'])}"
    if "cart" in kwargs:
        query += "&cart=" + quote(",".join(kwargs["cart"]))
    return query


def through_app(
    shop: Shopkeeper, key: str, users: list[str], skus: list[str], calls: int, seed: int
) -> dict[str, float]:
    """Per placement: CPU ms per request through the whole ASGI app (middleware, routing, key
    check, validation, rendering) called in-process, with no server or socket: what the
    framework adds to ``recommend``, apart from what uvicorn and the kernel add over HTTP."""
    import asyncio

    from shopkeeper.app import create_app

    app = create_app(shop)
    headers = [(b"host", b"bench"), (b"authorization", basic_auth(key).encode())]
    statuses: dict[int, int] = {}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    def scope(query: str) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/v1/recommendations",
            "raw_path": b"/v1/recommendations",
            "root_path": "",
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }

    async def run() -> dict[str, float]:
        out = {}
        for placement in PLACEMENTS:
            rng = random.Random(seed)
            scopes = [
                scope(_query(placement, arguments(placement, rng, users, skus)))
                for _ in range(calls)
            ]
            for item in scopes[:20]:
                await app(item, receive, send)
            cpu = time.process_time()
            for item in scopes:
                await app(item, receive, send)
            out[placement] = round((time.process_time() - cpu) * 1000 / calls, 3)
        return out

    figures = asyncio.run(run())
    if set(statuses) != {200}:
        raise SystemExit(f"the app answered {statuses} in-process")
    return figures


def over_http(
    store: BenchStore,
    users: list[str],
    skus: list[str],
    rates: list[float],
    duration: float,
) -> list[dict[str, Any]]:
    """Open-loop load per placement and rate on the real server."""
    server = store.start()
    print(f"page cache (MB): {store.page_cache}", flush=True)
    rows = []
    try:
        headers = {"Authorization": basic_auth(store.read_key)}
        for placement in PLACEMENTS:  # load the model in every worker, warm the snapshot
            for _ in range(20):
                kwargs = arguments(placement, random.Random(1), users, skus)
                params = {"placement": placement, **kwargs}
                if "cart" in params:
                    params["cart"] = ",".join(params["cart"])
                httpx.get(f"{server.url}/v1/recommendations", params=params, headers=headers)
        for rate in rates:
            for placement in PLACEMENTS:
                spec = loadgen.LoadSpec(
                    host="127.0.0.1",
                    port=server.port,
                    workload=recommendation_reads,
                    workload_args={
                        "host": f"127.0.0.1:{server.port}",
                        "key": store.read_key,
                        "placement": placement,
                        "requests": int(rate * duration),
                        "users": users,
                        "skus": skus,
                        "seed": int(rate),
                    },
                    mode="open",
                    rate=rate,
                )
                load = os.getloadavg()[0]
                cpu = tree_cpu_seconds(store.pid)
                result = loadgen.run(spec, timeout=duration + 180)
                server_cpu = tree_cpu_seconds(store.pid) - cpu
                ok = result.statuses.get(200, 0)
                figures = result.percentiles()
                rows.append(
                    {
                        "placement": placement,
                        "kind": "precomputed" if placement in PRECOMPUTED else "session",
                        "rate": rate,
                        "achieved_rate": round(ok / result.elapsed, 1),
                        "statuses": {str(k): v for k, v in result.statuses.items()},
                        "errors": result.errors,
                        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(ok, 1), 3),
                        "server_cpu_cores": round(server_cpu / result.elapsed, 2),
                        "loadavg_1m": round(load, 2),
                        **{k: round(v, 2) for k, v in figures.items()},
                    }
                )
                print(_http_line(rows[-1]), flush=True)
    finally:
        store.stop()
    return rows


def _http_line(row: dict[str, Any]) -> str:
    return (
        f"| {row['placement']} | {row['rate']:.0f} | {row['achieved_rate']} | {row.get('p50_ms')} "
        f"| {row.get('p95_ms')} | {row.get('p99_ms')} | {row.get('max_ms')} "
        f"| {row['server_cpu_ms_per_request']} | {row['loadavg_1m']} | {row['statuses']} |"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--store-dir", type=Path, default=Path("/tmp/shopkeeper-serving"))
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rates", type=float, nargs="*", default=[500.0, 1000.0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--profile", choices=PLACEMENTS, default=None)
    parser.add_argument("--label", default="", help="Suffix of the results file name.")
    args = parser.parse_args(argv)
    env = {"SHOPKEEPER_WORKERS": str(args.workers)}
    store = BenchStore("sqlite", keep=args.store_dir, env=env)
    info = build(store, args.customers, args.days, args.seed)
    shop = Shopkeeper.open(store.settings.model_copy(update={"log_json": False}))
    try:
        users, skus = sample(shop, args.seed)
        rows = in_process(shop, users, skus, args.calls, args.seed, args.profile)
        app_ms = through_app(shop, store.read_key, users, skus, args.calls, args.seed)
        for row in rows:
            row["app_cpu_ms"] = app_ms[row["placement"]]
    finally:
        shop.close()
    print(f"\n{json.dumps(info)}\n")
    print("| placement | CPU ms / call | p50 ms | p99 ms | app CPU ms / request | strategies |")
    print("|---|---:|---:|---:|---:|---|")
    for row in rows:
        strategies = ", ".join(f"{k} {v}" for k, v in sorted(row["strategies"].items()))
        print(
            f"| {row['placement']} | {row['cpu_ms']} | {row['p50_ms']} | {row['p99_ms']} "
            f"| {row['app_cpu_ms']} | {strategies} |"
        )
    http_rows: list[dict[str, Any]] = []
    if args.rates:
        print(
            "\n| placement | rate | achieved | p50 ms | p95 ms | p99 ms | max ms "
            "| server CPU ms/req | load 1m | statuses |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        http_rows = over_http(store, users[:5000], skus, args.rates, args.duration)
    report = {
        **info,
        "machine": machine(),
        "workers": args.workers,
        "in_process": rows,
        "http": http_rows,
        "page_cache": store.page_cache,
        "command": "python -m benchmarks.serving_bench "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"serving-{args.customers}{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return report


if __name__ == "__main__":
    main()
