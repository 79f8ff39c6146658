"""Instructions per event in each stage of ingest, counted by callgrind: a figure that does not
move with the host's speed, unlike every timing here (``gc_bench`` reads 0.72–1.38 s on the
same machine in one day).

    .venv/bin/python -m benchmarks.ingest_instructions [--events 600]

Each stage runs in a fresh process under ``valgrind --tool=callgrind --instr-atstart=no``; the
process counts only while the stage runs (``callgrind_control -i on/off``), after a warm-up
round of the same stage. One request body of the benchmark workload (``benchmarks.workload``,
random messageIds) goes through the stages a server does: a worker decodes and validates it,
builds and encodes the rows and frames them for the writer process; the writer reads the frame
and appends the rows (a fresh SQLite store, so the append here is the store's fixed cost per
event, without the page reads of a large store). The counts include ~1,000 instructions per
event of the toggling itself. Works on any checkout that has these functions, so an older
commit can be counted with ``PYTHONPATH=<its src>``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

STAGES = ("decode", "validate+row", "encode", "frame", "unframe", "append")


def _stage(name: str, events: int) -> None:
    """Inside valgrind: set up, warm up, then count ``name`` once."""
    import orjson

    from benchmarks.workload import EPOCH, event, message_id
    from shopkeeper.application import Shopkeeper
    from shopkeeper.events import writer
    from shopkeeper.ops.runtime import tune_gc
    from shopkeeper.settings import Settings

    tune_gc()
    shop = Shopkeeper.open(Settings(data_dir=Path(tempfile.mkdtemp()), projection="background"))
    shop.migrate()
    service = shop.events
    rng = random.Random(1)

    def body(run: str) -> bytes:
        items = [
            event(rng, rng.randrange(90_000), message_id(rng, run), EPOCH + timedelta(seconds=i))
            for i in range(events)
        ]
        return orjson.dumps({"batch": items, "sentAt": "2025-01-06T10:00:00+00:00"})

    def counted(run: str) -> Callable[[], Any]:
        """Stage ``name`` on a fresh body, its input made ready beforehand."""
        raw = body(run)
        if name == "decode":
            return lambda: _decode(service, raw)
        document = _decode(service, raw)
        if name == "validate+row":
            return lambda: service.parse(document, None)
        rows = service.parse(document, None).prepared
        # since the eighth session, rows come encoded from parse ("validate+row" encodes)
        encode = getattr(service, "_encode", None) if rows and isinstance(rows[0], dict) else None
        if name == "encode":
            return (lambda: encode(rows)) if encode else (lambda: None)
        encoded = encode(rows) if encode else rows
        if name == "frame":
            return lambda: _frame(writer, encoded)
        if name == "unframe":
            data = _frame(writer, encoded)
            return lambda: writer._receive(_Source(data))  # type: ignore[arg-type]
        return lambda: service._store_groups([encoded])  # append

    counted("warm")()
    stage = counted("counted")
    _instrument("on")
    stage()
    _instrument("off")


def _decode(service: Any, raw: bytes) -> Any:
    """What the batch route's decode gives (a checkout before 2026-12-07's eighth session
    had no ``batch`` flag: it always parsed the whole body)."""
    try:
        return service.decode(raw, None, batch=True)
    except TypeError:
        return service.decode(raw, None)


def _frame(writer: Any, encoded: list[list[Any]]) -> bytes:
    sink = _Sink()
    writer._send(sink, threading.Lock(), (1, encoded))
    return sink.data


class _Sink:
    """A channel that keeps what is sent."""

    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data


class _Source:
    """A channel that reads from bytes."""

    def __init__(self, data: bytes) -> None:
        self.view, self.at = memoryview(data), 0

    def recv_into(self, buffer: memoryview) -> int:
        size = min(len(buffer), len(self.view) - self.at)
        buffer[:size] = self.view[self.at : self.at + size]
        self.at += size
        return size


def _instrument(state: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", state, str(os.getpid())], capture_output=True, check=True
    )


def count(name: str, events: int) -> int:
    """Instructions per event of stage ``name`` (a process under callgrind)."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "benchmarks.ingest_instructions",
            "--stage",
            name,
            "--events",
            str(events),
        ]
        subprocess.run(command, check=True, capture_output=True)
        totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise RuntimeError(f"callgrind wrote no totals for {name}")
        return int(totals.group(1)) // events


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=600, help="events in the request body")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.stage:
        _stage(options.stage, options.events)
        return
    total = {"worker": 0, "writer": 0}
    for name in STAGES:
        per_event = count(name, options.events)
        side = "writer" if name in {"unframe", "append"} else "worker"
        total[side] += per_event
        print(f"{name:<14} {side:<7} {per_event:>9,} instructions per event", flush=True)
    for side, instructions in total.items():
        print(f"{'total':<14} {side:<7} {instructions:>9,} instructions per event")


if __name__ == "__main__":
    main()
