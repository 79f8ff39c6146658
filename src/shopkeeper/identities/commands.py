"""``shopkeeper merges list|preview|undo``."""

from __future__ import annotations

from contextlib import closing

import typer
from rich.table import Table

from shopkeeper.cli import app, console, open_shop
from shopkeeper.identities.service import MergePlan

merges_app = typer.Typer(help="Profile merges of the identity graph: list, preview, undo.")
app.add_typer(merges_app, name="merges")


@merges_app.command("list")
def list_merges(
    customer: str = typer.Option(None, help="Only merges of this customer (any identifier)."),
    limit: int = typer.Option(100, min=1, help="Most merges shown."),
) -> None:
    """List merges, newest first."""
    table = Table("id", "winner", "loser", "reason", "at", "undone")
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        graph = shop.identities
        for m in graph.list_merges(session, customer, limit=limit):
            undone = str(m.undone_at or "")
            table.add_row(str(m.id), m.winner_id, m.loser_id, m.reason, str(m.created_at), undone)
    console.print(table)


@merges_app.command("preview")
def preview(a: str, b: str) -> None:
    """Show what merging the customers behind A and B would do (nothing is written)."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        plan = shop.identities.preview_merge(session, a, b)
    console.print(_plan_table(plan))


@merges_app.command("undo")
def undo(merge_id: int) -> None:
    """Undo merge MERGE_ID, restoring both profiles."""
    with closing(open_shop()) as shop, shop.db.transaction() as session:
        merge = shop.identities.undo(session, merge_id, actor="cli")
        console.print(f"undid merge {merge.id}: {merge.loser_id} split from {merge.winner_id}")


def _plan_table(plan: MergePlan) -> Table:
    table = Table(title="merge preview", show_header=False)
    conflicts = "\n".join(
        f"{c.key}: keeps {c.winner_value!r}, drops {c.loser_value!r}" for c in plan.trait_conflicts
    )
    rows = (
        ("winner", plan.winner_id),
        ("loser", plan.loser_id),
        ("why", plan.why),
        ("allowed", f"no: {plan.refused}" if plan.refused else "yes"),
        ("identities moving", "\n".join(f"{k}: {v}" for k, v in plan.identities_moving)),
        ("orders moving", ", ".join(plan.orders_moving) or "none"),
        ("consent rows moving", str(plan.consents_moving)),
        ("trait conflicts", conflicts or "none"),
        ("e-mail after", plan.resulting_email or ""),
    )
    for label, value in rows:
        table.add_row(label, value)
    return table
