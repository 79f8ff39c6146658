"""``shopkeeper triggers list|run``."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import UTC, datetime, timedelta

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopkeeper.cli import app, console, open_shop
from shopkeeper.errors import Invalid

triggers_app = typer.Typer(
    help="Triggers: named behaviours (premium affinity, cart abandoned, ...) fired as events."
)
app.add_typer(triggers_app, name="triggers")


def _span(seconds: int) -> str:
    delta = timedelta(seconds=seconds)
    if delta.days and not delta.seconds:
        return f"{delta.days} d"
    if delta.seconds % 3600 == 0 and not delta.days:
        return f"{delta.seconds // 3600} h"
    return str(delta)


@triggers_app.command("list")
def list_triggers(
    as_json: bool = typer.Option(False, "--json", help="Print the definitions as JSON."),
) -> None:
    """The trigger definitions: what each means, its window and cooldown."""
    with closing(open_shop(migrate=False)) as shop:
        found = shop.triggers.definitions()
        enabled = shop.settings.triggers == "on"
    if as_json:
        console.print_json(json.dumps([t.model_dump() for t in found]))
        return
    table = Table("name", "window", "cooldown", "evaluated", "what", title_justify="left")
    table.title = "Triggers" + ("" if enabled else " (off: SHOPKEEPER_TRIGGERS=off)")
    for t in found:
        when = "per category, " if t.per else ""
        when += "on " + (", ".join(t.on) if t.on and len(t.on) <= 2 else "visits")
        if t.swept:
            when += " + sweep"
        table.add_row(
            t.name, _span(t.window_seconds), _span(t.cooldown_seconds), when, t.description
        )
    console.print(table)


@triggers_app.command("run")
def run_triggers(
    at: str | None = typer.Option(
        None, "--at", help="Evaluate as of this ISO-8601 time instead of now (replays)."
    ),
) -> None:
    """Sweep: evaluate the time-based triggers (cart abandoned) for everyone who may fire them.

    Run it every few minutes (cron, systemd timer): an abandoned cart sends no further event
    that would wake the trigger on arrival.
    """
    moment = None
    if at is not None:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise Invalid("--at must be an ISO-8601 time", detail={"field": "at"}) from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with closing(open_shop()) as shop, Progress(*columns, console=console) as progress:
        task = progress.add_task("people", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = shop.triggers.sweep(at=moment, progress=tick)
    console.print(
        f"swept {result.people:,} people as of {result.at.isoformat()}: "
        f"[bold]{result.fired:,}[/bold] triggers fired"
    )
