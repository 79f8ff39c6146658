"""``python -m benchmarks`` (``make bench``): run the platform-core benchmarks and report them.

Examples::

    python -m benchmarks                                   # all three, SQLite
    python -m benchmarks --only ingest --backend postgresql
    python -m benchmarks --only profile --store-dir /tmp/bench-stores   # keep/reuse the 2M store
    python -m benchmarks --quick                           # seconds-long smoke run
    python -m benchmarks --only personas                   # clustering 100k customers

Each run prints a Markdown table and writes ``benchmarks/results/<benchmark>-<backend>.json``
(``-quick`` appended for smoke runs) with the figures, the parameters and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.stores import RESULTS, host_speed_ms, machine
from benchmarks.suites import SUITES, Options

#: The figures each benchmark's table row shows, in order.
HEADLINES = {
    "ingest": (
        "projection",
        "events_per_s",
        "server_cpu_us_per_event",
        "projected_per_s",
        "events_in_store",
        "p50_ms",
        "p99_ms",
        "server_cpu_cores",
        "loadgen_cpu_cores",
    ),
    "latency": ("achieved_rate", "p50_ms", "p90_ms", "p99_ms", "max_ms", "server_cpu_cores"),
    "profile": ("store_customers", "store_events", "achieved_rate", "p50_ms", "p99_ms", "max_ms"),
    "personas": ("customers", "k", "ari_vs_planted", "stability", "fit_wall_s", "fit_cpu_s"),
}


def parse(argv: Sequence[str] | None) -> tuple[list[str], list[str], Options]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument(
        "--only",
        choices=sorted(SUITES),
        action="append",
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="a few seconds each (smoke test)")
    parser.add_argument("--connections", type=int, default=8, help="ingest connections")
    parser.add_argument("--events", type=int, default=200_000, help="ingest: events to send")
    parser.add_argument(
        "--population", type=int, default=0, help="ingest: distinct visitors (default events/10)"
    )
    parser.add_argument(
        "--projection",
        choices=("inline", "background"),
        default="inline",
        help="when the server applies events' facts (SHOPKEEPER_PROJECTION)",
    )
    parser.add_argument(
        "--sequential-ids",
        action="store_true",
        help="ingest: number the messageIds (as before 2026-12-07) instead of random UUIDs",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per measurement")
    parser.add_argument("--rate", type=float, default=1000.0, help="latency: requests/s")
    parser.add_argument("--read-rate", type=float, default=500.0, help="profile: requests/s")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events-per-customer", type=int, default=20)
    parser.add_argument(
        "--store-dir",
        type=Path,
        default=None,
        help="keep the loaded profile store here and reuse it next time",
    )
    args = parser.parse_args(argv)
    names = args.only or ["ingest", "latency", "profile"]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    options = Options(
        quick=args.quick,
        connections=args.connections,
        events=args.events,
        population=args.population,
        projection=args.projection,
        sequential_ids=args.sequential_ids,
        duration=args.duration,
        rate=args.rate,
        read_rate=args.read_rate,
        customers=args.customers,
        events_per_customer=args.events_per_customer,
        store_dir=args.store_dir,
    )
    return names, backends, options


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| benchmark | backend | figures |", "|---|---|---|"]
    for row in rows:
        figures = ", ".join(
            f"{name} {row[name]:,}" if isinstance(row.get(name), int) else f"{name} {row.get(name)}"
            for name in HEADLINES[row["benchmark"]]
        )
        lines.append(f"| {row['benchmark']} | {row['backend']} | {figures} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    names, backends, options = parse(argv)
    host = machine()
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for backend in backends:
        for name in names:
            print(
                f"running {name} on {backend}{' (quick)' if options.quick else ''}...", flush=True
            )
            load_before, speed_before = os.getloadavg(), host_speed_ms()
            row = SUITES[name](Options(**{**options.__dict__, "backend": backend}))
            row["machine"] = host
            row["loadavg_before"] = [round(x, 2) for x in load_before]
            row["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
            # the host's speed around the run (stores.host_speed_ms; lower is faster)
            row["host_speed_ms"] = [speed_before, host_speed_ms()]
            row["command"] = "python -m benchmarks " + " ".join(
                sys.argv[1:] if argv is None else argv
            )
            suffix = "-quick" if options.quick else ""
            path = RESULTS / f"{name}-{backend}{suffix}.json"
            path.write_text(json.dumps(row, indent=2, default=str) + "\n")
            rows.append(row)
            print(table([row]).splitlines()[-1], flush=True)
    print()
    print(
        f"machine: {host['nproc']} cores ({host['cpu']}), Python {host['python']}, "
        f"SQLite {host['sqlite']}, PostgreSQL {host.get('postgresql')}, {host['date']}"
    )
    print(table(rows))
    print(f"\nresults: {RESULTS}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
