"""Trigger cost per ingested event: the simulator through ``shop.events.ingest``, off vs on.

Run: ``.venv/bin/python -m benchmarks.triggers_bench [--quick] [--customers N] [--days N]``
from the repo root. Prints a Markdown table and writes ``benchmarks/results/triggers[-quick].json``.
``--personas`` instead loads the shop once (triggers on) and prints, per planted persona, how
many customers each trigger fired for (the acceptance figures of BENCHMARKS.md).

Each mode loads the same seeded simulated shop into a fresh SQLite store (``synchronous=NORMAL``)
in-process; CPU time (``time.process_time``) and wall time are measured around the whole load,
so "on − off" is what triggers add per event (the query for the batch's people, evaluation at
every arriving event, writing ``trigger_fired`` events). The simulator sends a history in chunks
of thousands of events (a replay): live traffic has fewer events per person per batch. The mode
order alternates over the repeats, and the median of the repeats is reported, because the
machine is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.events.kinds import TRIGGER_FIRED
from shopkeeper.models import Event
from shopkeeper.settings import Settings
from shopkeeper.simulator.commands import simulate_to_store

RESULTS = Path(__file__).parent / "results"


def load(customers: int, days: int, triggers: str) -> dict[str, float]:
    """Load the simulated shop once with triggers ``on`` or ``off``; CPU and wall seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        settings = Settings(
            data_dir=data, log_json=False, log_level="warning",
            sqlite_synchronous="NORMAL", triggers=triggers, triggers_max_age_days=0,
        )  # fmt: skip
        shop = Shopkeeper.open(settings, clock=FixedClock(datetime(2026, 11, 2, tzinfo=UTC)))
        shop.migrate()
        cpu, wall = time.process_time(), time.perf_counter()
        summary = simulate_to_store(shop, customers, days, 7, data / "truth")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        with shop.db.sessions() as session:
            fired = session.scalar(select(func.count()).where(Event.kind == TRIGGER_FIRED))
        shop.close()
    return {"events": summary.accepted, "cpu_s": cpu, "wall_s": wall, "fired": float(fired or 0)}


def personas(customers: int, days: int) -> dict[str, dict[str, int]]:
    """Customers per planted persona for whom each trigger fired (ground truth: the simulator)."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        settings = Settings(
            data_dir=data, log_json=False, log_level="warning", triggers="on",
            triggers_max_age_days=0,  # a replayed history: fire as it would have live
        )  # fmt: skip
        shop = Shopkeeper.open(settings, clock=FixedClock(datetime(2026, 11, 2, tzinfo=UTC)))
        shop.migrate()
        simulate_to_store(shop, customers, days, 7, data / "truth")
        truth = [
            json.loads(line)
            for line in (data / "truth" / "customers.jsonl").read_text().splitlines()
        ]
        owner: dict[tuple[str, str], tuple[str, str]] = {}
        for c in truth:
            owner[("user_id", c["user_id"])] = (c["persona"], c["user_id"])
            for anonymous_id in c["anonymous_ids"]:
                owner[("anonymous_id", anonymous_id)] = (c["persona"], c["user_id"])
        fired: dict[str, dict[str, set[str]]] = {}
        with shop.db.sessions() as session:
            rows = session.execute(
                select(Event.user_id, Event.anonymous_id, Event.properties).where(
                    Event.kind == TRIGGER_FIRED
                )
            )
            for user_id, anonymous_id, props in rows:
                persona, who = (
                    owner.get(("user_id", user_id or ""))
                    or owner[("anonymous_id", anonymous_id or "")]
                )
                fired.setdefault(props["trigger"], {}).setdefault(persona, set()).add(who)
        shop.close()
    sizes: dict[str, int] = {}
    for c in truth:
        sizes[c["persona"]] = sizes.get(c["persona"], 0) + 1
    table = {"customers": sizes} | {
        name: {p: len(found.get(p, ())) for p in sizes} for name, found in sorted(fired.items())
    }
    names = sorted(sizes)
    print("| trigger | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(str(row[p]) for p in names) + " |")
    return table


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small shop, one repeat")
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--personas", action="store_true", help="firings per planted persona")
    args = parser.parse_args(argv)
    if args.personas:
        table = personas(args.customers, args.days)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "triggers-personas.json").write_text(json.dumps(table, indent=2) + "\n")
        return table
    customers, days, repeats = (
        (100, 30, 1) if args.quick else (args.customers, args.days, args.repeats)
    )
    runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for i in range(repeats):
        for mode in ("off", "on") if i % 2 == 0 else ("on", "off"):
            runs[mode].append(load(customers, days, mode))
    events = runs["off"][0]["events"]
    per = {
        mode: {
            key: statistics.median(r[key] for r in found) for key in ("cpu_s", "wall_s", "fired")
        }
        for mode, found in runs.items()
    }
    row = {
        "benchmark": "triggers",
        "customers": customers,
        "days": days,
        "events": events,
        "repeats": repeats,
        "cpu_us_per_event_off": round(1e6 * per["off"]["cpu_s"] / events, 1),
        "cpu_us_per_event_on": round(1e6 * per["on"]["cpu_s"] / events, 1),
        "wall_us_per_event_off": round(1e6 * per["off"]["wall_s"] / events, 1),
        "wall_us_per_event_on": round(1e6 * per["on"]["wall_s"] / events, 1),
        "trigger_cpu_us_per_event": round(
            1e6 * (per["on"]["cpu_s"] - per["off"]["cpu_s"]) / events, 1
        ),
        "triggers_fired": int(per["on"]["fired"]),
        "runs": runs,
    }
    print("| figure | triggers off | triggers on |")
    print("|---|---|---|")
    print(f"| CPU per event (µs) | {row['cpu_us_per_event_off']} | {row['cpu_us_per_event_on']} |")
    print(
        f"| wall per event (µs) | {row['wall_us_per_event_off']} | {row['wall_us_per_event_on']} |"
    )
    print(f"\n{events:,} events, {customers} customers, {days} days, {repeats} repeats (median); "
          f"triggers add {row['trigger_cpu_us_per_event']} µs CPU per event, "
          f"{row['triggers_fired']:,} firings")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if args.quick else ""
    (RESULTS / f"triggers{suffix}.json").write_text(json.dumps(row, indent=2) + "\n")
    return row


if __name__ == "__main__":
    main()
