"""``shopkeeper import FORMAT PATH…``: import a shop's history, with a progress bar."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from shopkeeper.cli import app, console, open_shop
from shopkeeper.imports.schemas import ImportSummary


@app.command("import")
def import_(
    format_name: str = typer.Argument(
        ...,
        metavar="FORMAT",
        help="online-retail, cdnow, shopify-orders, shopify-customers, "
        "customers, products, orders or events (see docs/import-formats.md).",
    ),
    paths: list[Path] = typer.Argument(..., metavar="PATH...", help="Files, imported in order."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Where to write rejected rows (default: DATA_DIR/rejects/…)."
    ),
    chunk_rows: int = typer.Option(20_000, help="Rows per transaction.", min=1_000),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Import historical shop data; safe to re-run (imports are idempotent)."""
    from shopkeeper.imports.service import ImportService

    shop = open_shop()
    try:
        service = ImportService(shop, chunk_rows=chunk_rows)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TextColumn("{task.fields[rate]:,.0f} rows/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=quiet,
            transient=True,
        ) as bar:
            task = bar.add_task(f"import {format_name}", total=None, rows=0, rate=0.0)
            started = bar.get_time()

            def progress(rows: int, done: int, total: int) -> None:
                elapsed = max(bar.get_time() - started, 1e-9)
                bar.update(task, completed=done, total=total, rows=rows, rate=rows / elapsed)

            summary = service.run(format_name, paths, rejects_path=rejects, progress=progress)
    finally:
        shop.close()
    console.print(summary_table(summary))
    if summary.rejects_path is not None:
        console.print(f"[yellow]{summary.rejected:,} rejected rows in {summary.rejects_path}")


def summary_table(summary: ImportSummary) -> Table:
    table = Table("", "count", title=f"Imported {summary.format}", title_justify="left")
    for label, value in (
        ("rows read", summary.rows),
        ("accepted", summary.accepted),
        ("duplicates", summary.duplicates),
        ("rejected", summary.rejected),
        ("orders created", summary.orders_created),
        ("orders updated", summary.orders_updated),
        ("orders unchanged", summary.orders_unchanged),
        ("customers created", summary.customers_created),
        ("products created", summary.products_created),
        ("products updated", summary.products_updated),
        ("events accepted", summary.events_accepted),
    ):
        table.add_row(label, f"{value:,}")
    table.add_row("rows/s", f"{summary.rows_per_second:,.0f} ({summary.seconds:.1f} s)")
    return table
