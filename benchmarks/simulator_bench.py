"""Timing check (not a test): how fast the pure simulator generates events.

Generates a shop of 10,000 customers over 365 days (override with arguments), consumes every
event without storing it, and reports events/s for the generator alone and, separately, for
generator + JSON serialisation (what ``shopkeeper simulate --out`` adds). Run::

    .venv/bin/python benchmarks/simulator_bench.py [customers] [days] [seed]
        [--generator-only] [--default-gc]

The target (issue 3) is >= 100,000 events/s for the generator. The garbage collector is tuned
as the CLI tunes it (``shopkeeper.ops.runtime``): with the default thresholds a million
customers' state made every young collection expensive (79,843 against 165,772 events per CPU
second, 1M customers, 12 days, ``1000000 12 0 --generator-only``; ``--default-gc`` keeps the
defaults). ``--generator-only`` skips the second, JSON pass.
"""

from __future__ import annotations

import sys
import time
from collections import Counter

import orjson

from shopkeeper.ops.runtime import tune_gc
from shopkeeper.simulator.shop import ShopSimulation, SimulationConfig


def main(argv: list[str]) -> None:
    generator_only = "--generator-only" in argv
    default_gc = "--default-gc" in argv
    argv = [a for a in argv if not a.startswith("--")]
    if not default_gc:
        tune_gc()
    customers = int(argv[0]) if argv else 10_000
    days = int(argv[1]) if len(argv) > 1 else 365
    seed = int(argv[2]) if len(argv) > 2 else 0
    began = time.perf_counter()
    sim = ShopSimulation(SimulationConfig(customers=customers, days=days, seed=seed))
    setup = time.perf_counter() - began

    began, cpu = time.perf_counter(), time.process_time()
    kinds: Counter[str] = Counter()
    count = 0
    for event in sim.events():
        kinds[event.get("event") or event["type"]] += 1
        count += 1
        if count % 10_000_000 == 0:
            print(f"  {count:,} events, {kinds['Order Completed']:,} orders", file=sys.stderr)
    generate, cpu = time.perf_counter() - began, time.process_time() - cpu

    began = time.perf_counter()
    size = 0
    if not generator_only:
        for event in sim.events():
            size += len(orjson.dumps(event)) + 1
    serialise = max(time.perf_counter() - began, 1e-9)

    truth = sim.truth()
    orders = kinds["Order Completed"]
    print(f"customers {customers:,} days {days} seed {seed} products {len(sim.products):,}")
    print(f"setup (catalog, population, calendar): {setup:.2f}s")
    print(
        f"generator: {count:,} events in {generate:.2f}s = {count / generate:,.0f} events/s "
        f"({cpu:.2f}s CPU = {count / cpu:,.0f} events per CPU second)"
    )
    if not generator_only:
        print(
            f"generator + JSON: {serialise:.2f}s = {count / serialise:,.0f} events/s, "
            f"{size / 1e6:,.0f} MB of JSONL"
        )
    print(
        f"orders {orders:,}, events per customer {count / customers:,.0f}, "
        f"truth rows {len(truth['customers']):,}"
    )
    for name, n in kinds.most_common():
        print(f"  {name:<22}{n:>12,}")


if __name__ == "__main__":
    main(sys.argv[1:])
