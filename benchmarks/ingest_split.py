"""Where ingest's CPU goes per event, in-process: decode, validate + row, append, projection.

    .venv/bin/python -m benchmarks.ingest_split

40,000 events of the benchmark workload in 200-event batches on a fresh SQLite store (background
schedule, so appending and projecting are timed apart); best of 3, ``time.process_time``. The
garbage collector is tuned as ``shopkeeper serve`` and the projector process tune it
(``--default-gc`` keeps CPython's thresholds, as this script did before 2026-12-07).
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import orjson

from benchmarks.workload import EPOCH, event
from shopkeeper.application import Shopkeeper
from shopkeeper.settings import Settings

EVENTS = 40_000
BATCH = 200


def main() -> None:
    import sys

    from shopkeeper.ops.runtime import tune_gc

    if "--default-gc" not in sys.argv[1:]:
        tune_gc()
    shop = Shopkeeper.open(Settings(data_dir=Path(tempfile.mkdtemp()), projection="background"))
    shop.migrate()
    service = shop.events
    rng = random.Random(1)
    bodies = [
        orjson.dumps(
            {
                "batch": [
                    event(rng, rng.randrange(200_000), f"m-{b}-{i}", EPOCH + timedelta(seconds=b))
                    for i in range(BATCH)
                ]
            }
        )
        for b in range(EVENTS // BATCH)
    ]
    best: dict[str, float] = {}
    for attempt in range(3):
        t0 = time.process_time()
        documents = [service.decode(body, None, batch=True) for body in bodies]
        t1 = time.process_time()
        parsed = [service.parse(document, None) for document in documents]
        t2 = time.process_time()
        for batch in parsed:
            for values in batch.prepared:  # encoded rows (messageId first)
                values[0] += f"-{attempt}"
            service._store_groups([batch.prepared])
        t3 = time.process_time()
        for step, seconds in (("decode", t1 - t0), ("validate+row", t2 - t1), ("append", t3 - t2)):
            best[step] = min(best.get(step, float("inf")), seconds / EVENTS * 1e6)
    start = time.process_time()
    applied = service.projector.drain()
    best["projector"] = (time.process_time() - start) / applied * 1e6
    for step, micros in best.items():
        print(f"{step:<14} {micros:7.1f} µs CPU per event")


if __name__ == "__main__":
    main()
