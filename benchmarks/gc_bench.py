"""Timing check (not a test): what CPython's cyclic GC costs while a batch of events is alive.

Decodes 200,000 simulated events (Segment payloads, as JSON text, like rows read back from the
log) and keeps them alive, as the projector and the ingest writer do with a batch, under three
collector settings: the defaults, ``shopkeeper.ops.runtime.GC_THRESHOLDS`` (what the CLI and
server use) and the collector off. Run::

    .venv/bin/python -m benchmarks.gc_bench [events]
"""

from __future__ import annotations

import gc
import sys
import time
from itertools import islice

import orjson

from shopkeeper.ops.runtime import GC_THRESHOLDS
from shopkeeper.simulator.shop import ShopSimulation, SimulationConfig

SETTINGS = {"default (700, 10, 10)": (700, 10, 10), f"shopkeeper {GC_THRESHOLDS}": GC_THRESHOLDS}


def decode_all(texts: list[bytes]) -> float:
    began = time.process_time()
    alive = [orjson.loads(text) for text in texts]
    spent = time.process_time() - began
    del alive
    return spent


def main(argv: list[str]) -> None:
    count = int(argv[0]) if argv else 200_000
    sim = ShopSimulation(SimulationConfig(customers=5000, days=365, seed=0))
    texts = [orjson.dumps(event) for event in islice(sim.events(), count)]
    print(f"{len(texts):,} events, {sum(map(len, texts)) / len(texts):,.0f} bytes each")
    for name, thresholds in SETTINGS.items():
        gc.enable()
        gc.set_threshold(*thresholds)
        gc.collect()
        print(f"  GC {name:<32} {decode_all(texts):6.2f} s CPU")
    gc.disable()
    print(f"  GC {'off':<32} {decode_all(texts):6.2f} s CPU")
    gc.enable()


if __name__ == "__main__":
    main(sys.argv[1:])
