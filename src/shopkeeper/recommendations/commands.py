"""``shopkeeper train``, ``shopkeeper recommend`` and ``shopkeeper evaluate``."""

from __future__ import annotations

import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopkeeper.cli import app, console, open_shop
from shopkeeper.recommendations.training import STAGES

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper
    from shopkeeper.recommendations import evaluation as evaluation_types


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


@app.command("evaluate")
def evaluate_command(
    cut: datetime | None = typer.Option(
        None, "--cut", help="Test period starts here (default: 3/4 through the history)."
    ),
    validation_cut: datetime | None = typer.Option(
        None, "--validation-cut", help="Tuning cut inside the training period (default: 58%)."
    ),
    k: int = typer.Option(10, "-k", min=1, max=100, help="List length scored."),
    svg: Path | None = typer.Option(None, "--svg", help="Also write NDCG@k per model as SVG."),
) -> None:
    """Measure every recommender on a temporal split of the store's purchases."""
    from shopkeeper.recommendations import evaluation
    from shopkeeper.recsys.tuning import families

    with closing(open_shop()) as shop:
        events = evaluation.purchase_log(shop)
        items = evaluation.catalogue(shop)
    default_cut, default_validation = evaluation.default_cuts(events)
    at = cut.replace(tzinfo=cut.tzinfo or UTC).timestamp() if cut else default_cut
    if validation_cut is not None:
        tuning = validation_cut.replace(tzinfo=validation_cut.tzinfo or UTC).timestamp()
    else:
        first = float(events.timestamps.min())
        tuning = default_validation if cut is None else first + (at - first) * 0.77
    steps = [f.name for f in families(lambda: 0.0)] + ["bought_together"]
    columns = (TextColumn("{task.description:<18}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("splitting", total=len(steps))

        def on_step(name: str) -> None:
            progress.update(task, completed=steps.index(name), description=name)

        report = evaluation.run(events, at, tuning, k, on_step=on_step, items=items)
        progress.update(task, completed=len(steps), description="done")
    _print_report(report)
    if svg is not None:
        svg.write_text(evaluation.svg_chart(report))
        console.print(f"chart written to {svg}")


def _print_report(report: evaluation_types.Report) -> None:
    console.print(
        f"train before {report.cut:%Y-%m-%d %H:%M} UTC (tuned on a cut at "
        f"{report.validation_cut:%Y-%m-%d}): {report.customers:,} customers × "
        f"{report.items:,} products; {report.test_customers:,} test customers"
    )
    for name, title in (("all", "all purchases"), ("new", "items new to the customer")):
        table = Table(
            "model",
            "setting",
            f"NDCG@{report.k}",
            f"Recall@{report.k}",
            f"MAP@{report.k}",
            f"Hit@{report.k}",
            "coverage",
            "novelty",
            "fit s",
            title=f"{title} ({report.models[0].evaluation.tasks[name].users:,} customers)",
            title_justify="left",
        )
        for model in report.models:
            t = model.evaluation.tasks[name]
            table.add_row(
                model.name,
                model.setting,
                f"{t.ndcg:.4f}",
                f"{t.recall:.4f}",
                f"{t.map:.4f}",
                f"{t.hit_rate:.4f}",
                f"{t.coverage:.3f}",
                "—" if t.novelty != t.novelty else f"{t.novelty:.2f}",
                f"{model.evaluation.fit_seconds:.2f}",
            )
        console.print(table)
    baskets = Table(
        "model",
        f"HitRate@{report.k}",
        f"MRR@{report.k}",
        title=f"basket completion ({report.basket_tests:,} baskets, one item hidden)",
        title_justify="left",
    )
    for label, hit, mrr in report.baskets:
        baskets.add_row(label, f"{hit:.4f}", f"{mrr:.4f}")
    console.print(baskets)
