"""``shopkeeper train`` and ``shopkeeper recommend``."""

from __future__ import annotations

import time
from contextlib import closing
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopkeeper.cli import app, console, open_shop
from shopkeeper.recommendations.training import STAGES

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper


@app.command("train")
def train_command(
    every: float | None = typer.Option(
        None, "--every", min=1.0, help="Retrain every this many minutes until interrupted."
    ),
) -> None:
    """Build every recommendation model from the store and swap the new version in."""
    with closing(open_shop()) as shop:
        while True:
            _train_once(shop)
            if every is None:
                return
            time.sleep(every * 60.0)


def _train_once(shop: Shopkeeper) -> None:
    columns = (TextColumn("{task.description:<16}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("starting", total=len(STAGES))
        done = -1

        def on_stage(name: str) -> None:
            nonlocal done
            done += 1
            progress.update(task, completed=done, description=name)

        model = shop.recommendations.train(on_stage=on_stage)
        progress.update(task, completed=len(STAGES), description="done")
    stats = ", ".join(f"{k} {v:,}" for k, v in model.stats.items())
    console.print(f"model [bold]{model.version}[/bold] is live ({stats})")


@app.command("recommend")
def recommend_command(
    placement: str = typer.Argument(
        ...,
        help="for_you, also_bought, bought_together, similar, "
        "trending, recently_viewed, buy_again or cart.",
    ),
    customer: str | None = typer.Option(None, "--customer", help="Customer id or identifier."),
    anonymous_id: str | None = typer.Option(None, "--anonymous-id", help="Visitor's anonymousId."),
    product: str | None = typer.Option(None, "--product", help="The product being viewed."),
    cart: str | None = typer.Option(None, "--cart", help="Cart skus, comma-separated."),
    k: int = typer.Option(10, "-k", help="How many items."),
    as_json: bool = typer.Option(False, "--json", help="Print the response as JSON."),
) -> None:
    """Show a placement's recommendations with their reasons."""
    skus = [s.strip() for s in cart.split(",") if s.strip()] if cart else None
    with closing(open_shop()) as shop:
        result = shop.recommendations.recommend(
            placement, customer=customer, anonymous_id=anonymous_id, product=product, cart=skus, k=k
        )
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    table = Table(
        "#",
        "sku",
        "title",
        "score",
        "reason",
        title=f"{placement} · strategy {result.strategy} · model {result.model_version}",
        title_justify="left",
    )
    for n, item in enumerate(result.items, 1):
        table.add_row(str(n), item.sku, item.title or "", f"{item.score:.3f}", item.reason)
    console.print(table)
