"""``shopkeeper customers export|erase``."""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path

import typer

from shopkeeper.cli import app, console, open_shop


def _customers_group() -> typer.Typer:
    """The ``customers`` group, shared with the customers domain's own commands: reuse it if
    that module registered it first, otherwise register it here."""
    for group in app.registered_groups:
        if group.name == "customers" and group.typer_instance is not None:
            return group.typer_instance
    group_app = typer.Typer(help="Customers: profiles, and what is held about a person.")
    app.add_typer(group_app, name="customers")
    return group_app


customers_app = _customers_group()


@customers_app.command("export")
def export(
    customer_id: str = typer.Argument(..., help="Customer id, userId, anonymousId or e-mail."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (default stdout)."),
) -> None:
    """Export everything held about a person as JSON (audit-logged)."""
    with closing(open_shop()) as shop:
        with shop.db.transaction() as session:
            person = shop.privacy.begin_export(session, customer_id, actor="cli")
        if out is None:
            for chunk in shop.privacy.export_chunks(person):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.write(b"\n")
            sys.stdout.flush()
            return
        with out.open("wb") as handle:
            handle.writelines(shop.privacy.export_chunks(person))
    console.print(f"exported {customer_id} to {out}")


@customers_app.command("erase")
def erase(
    customer_id: str = typer.Argument(..., help="Customer id, userId, anonymousId or e-mail."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: erasure cannot be undone."),
) -> None:
    """Erase a person and everything about them; their orders stay, anonymised."""
    if not yes:
        console.print("[red]refusing to erase without --yes[/red] (this cannot be undone)")
        raise typer.Exit(1)
    with closing(open_shop()) as shop, shop.db.transaction() as session:
        erasure = shop.privacy.erase(session, customer_id, actor="cli")
    counts = ", ".join(f"{table} {n}" for table, n in erasure.counts.items())
    console.print(f"erased {erasure.target}: {counts}")
