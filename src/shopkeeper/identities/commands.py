"""``shopkeeper merges list|preview|undo``."""

from __future__ import annotations

import typer
from rich.table import Table

from shopkeeper.cli import app, console, open_shop
from shopkeeper.identities.service import IdentityGraph

merges_app = typer.Typer(help="Profile merges of the identity graph: list, preview, undo.")
app.add_typer(merges_app, name="merges")


@merges_app.command("list")
def list_merges(
    customer: str = typer.Option(None, help="Only merges of this customer (any identifier)."),
) -> None:
    """List merges, newest first."""
    shop = open_shop()
    with shop.db.sessions() as session:
        merges = IdentityGraph(shop.settings, shop.clock).list_merges(session, customer)
        table = Table("id", "winner", "loser", "reason", "at", "undone")
        for m in merges:
            table.add_row(
                str(m.id),
                m.winner_id,
                m.loser_id,
                m.reason,
                str(m.created_at),
                str(m.undone_at or ""),
            )
    console.print(table)


@merges_app.command("preview")
def preview(a: str, b: str) -> None:
    """Show what merging the customers behind A and B would do (nothing is written)."""
    shop = open_shop()
    with shop.db.sessions() as session:
        plan = IdentityGraph(shop.settings, shop.clock).preview_merge(session, a, b)
    table = Table("", "", title="merge preview", show_header=False)
    table.add_row("winner", plan.winner_id)
    table.add_row("loser", plan.loser_id)
    table.add_row("why", plan.why)
    table.add_row("allowed", "no: " + plan.refused if plan.refused else "yes")
    table.add_row("identities moving", "\n".join(f"{k}: {v}" for k, v in plan.identities_moving))
    table.add_row("orders moving", ", ".join(plan.orders_moving) or "none")
    table.add_row("consent rows moving", str(plan.consents_moving))
    table.add_row(
        "trait conflicts",
        "\n".join(
            f"{c.key}: keeps {c.winner_value!r}, drops {c.loser_value!r}"
            for c in plan.trait_conflicts
        )
        or "none",
    )
    table.add_row("e-mail after", plan.resulting_email or "")
    console.print(table)


@merges_app.command("undo")
def undo(merge_id: int) -> None:
    """Undo merge MERGE_ID, restoring both profiles."""
    shop = open_shop()
    with shop.db.transaction() as session:
        merge = IdentityGraph(shop.settings, shop.clock).undo(session, merge_id, actor="cli")
        console.print(f"undid merge {merge.id}: {merge.loser_id} split from {merge.winner_id}")
