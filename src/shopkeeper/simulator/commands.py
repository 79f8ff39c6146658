"""``shopkeeper simulate``: a simulated shop into the store (or a JSONL file), truth apart.

The store path goes through the same doors as a real shop: the catalog through
``shop.catalog.upsert`` and the events through ``shop.events.ingest`` (the semantics of
``POST /v1/batch``), so a simulated shop exercises exactly the code a live one does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from shopkeeper.cli import app, console, open_shop
from shopkeeper.errors import Invalid, ShopkeeperError
from shopkeeper.simulator.shop import ShopSimulation, SimulationConfig
from shopkeeper.simulator.truth import write_truth

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper
    from shopkeeper.clock import Clock
    from shopkeeper.settings import Settings

CHUNK = 5000
DAY_MS = 86_400_000

#: Called after each chunk with (events so far, simulated days done).
ProgressCallback = Callable[[int, int], None]


@dataclass
class SimulationSummary:
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    products: int = 0
    seconds: float = 0.0
    truth_files: list[Path] = field(default_factory=list)
    first_errors: list[str] = field(default_factory=list)


def chunks(events: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    it = iter(events)
    while chunk := list(islice(it, size)):
        yield chunk


def _day_of(sim: ShopSimulation, event: dict[str, Any]) -> int:
    done = date.fromisoformat(event["timestamp"][:10]) - sim.config.start
    return min(done.days + 1, sim.config.days)


def simulate_to_store(
    shop: Shopkeeper,
    customers: int,
    days: int,
    seed: int,
    truth_path: Path,
    *,
    start: date = SimulationConfig.start,
    products: int = SimulationConfig.products,
    on_progress: ProgressCallback | None = None,
    parallel: bool = False,
) -> SimulationSummary:
    """Load a simulated shop into the store; write its ground truth to ``truth_path``.

    Events are serialised and parsed again before ingest, so the store receives independent
    dicts exactly as from the wire (the generator shares read-only parts between events).
    ``parallel`` runs the generator in one child process, which also validates and encodes
    the events (:meth:`~shopkeeper.events.service.EventService.encode`), and the projector
    (facts and triggers) in another, while this one appends; so a bulk load uses every core.
    Either way every fact is applied when this returns, and the store holds the same events.
    """
    from shopkeeper.catalog.schemas import ProductIn
    from shopkeeper.events.projector import ProjectorProcess

    config = SimulationConfig(customers, days, seed, start, products)
    summary = SimulationSummary()
    began = time.perf_counter()
    if parallel:
        stream = _streamed_in_child(config, truth_path, shop.settings, shop.clock)
    else:
        stream = _stream(config, truth_path)
    with ProjectorProcess(shop) if parallel else nullcontext() as child:
        for message in stream:
            if message[0] == "products":
                items = [ProductIn.model_validate(p) for p in message[1]]
                with shop.db.transaction() as session:
                    shop.catalog.upsert(session, items, partial=False)
                summary.products = len(items)
            elif message[0] in ("events", "encoded"):
                if message[0] == "events":  # validated here, facts applied as they are stored
                    day, data = message[1]
                    chunk = orjson.loads(data)
                    count, result = len(chunk), shop.events.ingest(chunk)
                else:  # validated by the generator's process; the projector process applies
                    day, count, encoded = message[1]
                    if child is not None:
                        child.check()
                    result = shop.events.append(encoded)
                summary.events += count
                summary.accepted += result.accepted
                summary.duplicates += result.duplicates
                summary.rejected += len(result.errors)
                for error in result.errors[: max(0, 5 - len(summary.first_errors))]:
                    summary.first_errors.append(str(error))
                if on_progress:
                    on_progress(summary.events, day)
            else:
                summary.truth_files = message[1]
    summary.seconds = time.perf_counter() - began
    return summary


def truth_of_customers(shop: Shopkeeper, people: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Each live store customer -> the truth row of the simulated person it belongs to.

    ``people`` are the truth's customer rows. A store customer is a profile (a userId, a
    device's anonymousId, a loyalty card, or several merged); it belongs to the person whose
    identifiers its identities are. Profiles holding two persons' identifiers are left out.
    """
    from sqlalchemy import select

    from shopkeeper.models import Customer, Identity

    person_of: dict[str, int] = {}
    rows = list(people)
    for index, person in enumerate(rows):
        for value in [person["user_id"], *person["anonymous_ids"], person["loyalty_id"]]:
            if value:
                person_of[value] = index
    found: dict[str, set[int]] = {}
    with shop.db.sessions() as session:
        query = select(Identity.customer_id, Identity.value, Customer.merged_into_id).join(
            Customer, Customer.id == Identity.customer_id
        )
        for customer_id, value, merged_into in session.execute(query):
            if value in person_of:
                found.setdefault(merged_into or customer_id, set()).add(person_of[value])
    return {cid: rows[next(iter(ids))] for cid, ids in found.items() if len(ids) == 1}


#: What the generator hands over, in order: ("products", catalog dicts), then per chunk
#: ("events", (simulated day, JSON array of a chunk)) or, validated and encoded in the
#: generator's process, ("encoded", (simulated day, events, Encoded)); then ("truth", files).
Message = tuple[str, Any]


def _stream(config: SimulationConfig, truth_path: Path) -> Iterator[Message]:
    sim = ShopSimulation(config)
    yield "products", sim.products
    for chunk in chunks(sim.events(), CHUNK):
        yield "events", (_day_of(sim, chunk[-1]), orjson.dumps(chunk))
    yield "truth", write_truth(sim.truth(), truth_path)


def _produce(
    config: SimulationConfig, truth_path: Path, queue: Any, settings: Settings, clock: Clock
) -> None:
    """Child process: the generator's messages into ``queue`` (bounded: it waits for ingest),
    each chunk validated and encoded as the store's ingest would (same code, this core)."""
    from shopkeeper.application import Shopkeeper
    from shopkeeper.db import Database
    from shopkeeper.ops.runtime import tune_gc

    tune_gc()
    if hasattr(os, "nice"):
        # The generator has slack (it runs ahead into a bounded queue); the projector is the
        # load's critical path, so when the two want the same core the projector gets it.
        os.nice(5)
    shop = Shopkeeper(settings=settings, db=Database(settings), clock=clock)
    try:
        for kind, body in _stream(config, truth_path):
            if kind == "events":
                day, data = body
                chunk = orjson.loads(data)  # independent dicts, exactly as from the wire
                queue.put(("encoded", (day, len(chunk), shop.events.encode(chunk))))
            else:
                queue.put((kind, body))
    except BaseException as exc:
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        shop.close()


def _streamed_in_child(
    config: SimulationConfig, truth_path: Path, settings: Settings, clock: Clock
) -> Iterator[Message]:
    import multiprocessing
    import queue as queues

    context = multiprocessing.get_context("spawn")
    channel = context.Queue(maxsize=4)
    process = context.Process(
        target=_produce,
        args=(config, truth_path, channel, settings, clock),
        name="shopkeeper-simulator",
    )
    process.start()
    try:
        while True:
            try:
                message: Message = channel.get(timeout=1.0)
            except queues.Empty:
                if not process.is_alive():
                    raise ShopkeeperError(
                        f"the simulator process died (exit code {process.exitcode})"
                    ) from None
                continue
            if message[0] == "error":
                raise ShopkeeperError(f"the simulator process failed: {message[1]}")
            yield message
            if message[0] == "truth":
                return
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()


def simulate_to_file(
    sim: ShopSimulation, out: Path, truth_path: Path, *, on_progress: ProgressCallback | None = None
) -> SimulationSummary:
    """Write the events as JSONL (one Segment payload per line) and the truth apart."""
    summary = SimulationSummary(products=len(sim.products))
    began = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        for chunk in chunks(sim.events(), CHUNK):
            fh.write(b"\n".join(map(orjson.dumps, chunk)) + b"\n")
            summary.events += len(chunk)
            if on_progress:
                on_progress(summary.events, _day_of(sim, chunk[-1]))
    summary.accepted = summary.events
    summary.truth_files = write_truth(sim.truth(), truth_path)
    summary.seconds = time.perf_counter() - began
    return summary


def progress_display(days: int) -> tuple[Progress, ProgressCallback]:
    """A Rich progress bar over simulated days, and the callback that moves it."""
    progress = Progress(
        TextColumn("[bold]simulating[/bold]"),
        BarColumn(),
        TextColumn("day {task.completed:.0f}/{task.total:.0f}"),
        TextColumn("{task.fields[events]:,} events"),
        TextColumn("{task.fields[rate]:,.0f} events/s"),
        TimeElapsedColumn(),
        console=console,
    )
    task = progress.add_task("simulate", total=days, events=0, rate=0.0)
    began = time.perf_counter()

    def tick(events: int, day: int) -> None:
        rate = events / max(time.perf_counter() - began, 1e-9)
        progress.update(task, completed=day, events=events, rate=rate)

    return progress, tick


@app.command()
def simulate(
    customers: int = typer.Option(1000, "--customers", min=1, help="Simulated customers."),
    days: int = typer.Option(365, "--days", min=1, help="Simulated days."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same shop, same bytes."),
    start: str = typer.Option("2025-11-01", "--start", help="First simulated day (ISO date)."),
    products: int = typer.Option(800, "--products", min=60, help="Catalog size."),
    truth: Path = typer.Option(
        None,
        "--truth",
        help="Ground truth: a .json file or a directory (default <data_dir>/simulation-truth/).",
    ),
    out: Path = typer.Option(
        None, "--out", help="Write events to this JSONL file instead of the store."
    ),
) -> None:
    """Simulate a shop with hidden personas: catalog and events, ground truth apart."""
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise Invalid(f"--start must be an ISO date, got {start!r}", detail="start") from None
    progress, tick = progress_display(days)

    if out is not None:
        from shopkeeper.settings import Settings

        truth = truth or Settings.from_env().data_dir / "simulation-truth"
        sim = ShopSimulation(SimulationConfig(customers, days, seed, first, products))
        with progress:
            summary = simulate_to_file(sim, out, truth, on_progress=tick)
        where = str(out)
    else:
        shop = open_shop()
        try:
            truth = truth or shop.settings.data_dir / "simulation-truth"
            with progress:
                summary = simulate_to_store(
                    shop,
                    customers,
                    days,
                    seed,
                    truth,
                    start=first,
                    products=products,
                    on_progress=tick,
                    parallel=True,
                )
        finally:
            shop.close()
        where = "the store"
    console.print(
        f"[green]{summary.events:,} events[/green] and {summary.products:,} products to {where} "
        f"in {summary.seconds:.1f}s ({summary.events / max(summary.seconds, 1e-9):,.0f} events/s);"
        f" accepted {summary.accepted:,}, duplicates {summary.duplicates:,}, "
        f"rejected {summary.rejected:,}"
    )
    for error in summary.first_errors:
        console.print(f"  [red]rejected:[/red] {error}")
    console.print(f"ground truth: {', '.join(str(p) for p in summary.truth_files)}")
