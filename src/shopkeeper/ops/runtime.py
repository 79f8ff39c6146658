"""Process-wide runtime tuning shared by the CLI, the server and worker processes.

CPython's cyclic garbage collector runs a young-generation pass every 700 container
allocations and, as the young survivors pile up, full passes over every live object. Ingest,
projection and imports allocate millions of short-lived dicts while holding large batches
alive, so with the default thresholds the collector re-walks the same live batches over and
over: decoding 200,000 events with them kept alive takes 2.46 s of CPU with the default
thresholds and 0.85 s with these (``python -m benchmarks.gc_bench``). Reference counting frees
almost everything here; the collector only has to find the rare cycle, so it can run far less
often.
"""

from __future__ import annotations

import gc

#: (young, middle, old) thresholds: a young pass every 100,000 allocations instead of 700.
GC_THRESHOLDS = (100_000, 50, 1000)


_tuned = False


def tune_gc() -> None:
    """Raise the collector's thresholds and move everything alive now (modules, settings,
    compiled queries) out of its sight, so later passes walk only what the work allocates.
    Once per process (a test session runs the CLI many times)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()
