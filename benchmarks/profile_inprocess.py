"""CPU per profile read in-process (no HTTP): ``shop.customers.profile(userId)`` on a stored shop.

Run: ``.venv/bin/python -m benchmarks.profile_inprocess --store-dir DIR`` from the repo root, on
a store built by ``python -m benchmarks --only profile --store-dir ...`` (its
``profile-sqlite-100000x20`` directory). Reads random ``user-NNNNNNNN`` ids after a warm-up and
prints CPU and wall milliseconds per read (``time.process_time`` / ``perf_counter``).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from shopkeeper.application import Shopkeeper
from shopkeeper.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--store-dir", type=Path, required=True)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=500)
    args = parser.parse_args()
    shop = Shopkeeper.open(Settings(data_dir=args.store_dir, log_level="warning"))
    rng = random.Random(5)
    ids = [f"user-{rng.randrange(args.customers):08d}" for _ in range(args.reads + 100)]
    for identifier in ids[:100]:
        shop.customers.profile(identifier)
    cpu, wall = time.process_time(), time.perf_counter()
    for identifier in ids[100:]:
        shop.customers.profile(identifier)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    shop.close()
    per_cpu, per_wall = cpu / args.reads * 1e3, wall / args.reads * 1e3
    print(f"{args.reads} reads: {per_cpu:.2f} ms CPU, {per_wall:.2f} ms wall each")


if __name__ == "__main__":
    main()
