"""``shopkeeper personas [show|members|save]``: fit personas and read their cards.

``shopkeeper personas`` alone fits a new model (with a progress bar) and prints the cards;
``show`` prints the current cards without refitting; ``members`` lists a persona's customers;
``save`` stores a persona as a segment (``persona = "<name>"``).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import typer
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopkeeper.cli import app, console, open_shop
from shopkeeper.personas.charts import persona_map
from shopkeeper.personas.options import STEPS, FitOptions
from shopkeeper.personas.schemas import PersonaModelOut

personas_app = typer.Typer(
    help="Cluster customers into personas that explain themselves.",
    invoke_without_command=True,
)
app.add_typer(personas_app, name="personas")

JSON = typer.Option(False, "--json", help="Print the result as JSON (the API's shape).")
SVG = typer.Option(None, "--svg", help="Also write the persona map as SVG to this path.")
#: Features named on the "shaped most by" line of a fit.
TOP_WEIGHTS = 5


@personas_app.callback()
def personas(
    ctx: typer.Context,
    k: int | None = typer.Option(None, "--k", min=2, max=20, help="Clusters (default: chosen)."),
    method: str = typer.Option("auto", "--method", help="kmeans, gmm or auto (best silhouette)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same personas."),
    min_sessions: int = typer.Option(
        5, "--min-sessions", min=0, help="Sessions a customer needs to shape the clusters."
    ),
    bootstrap: int = typer.Option(5, "--bootstrap", min=0, help="Stability refits."),
    as_json: bool = JSON,
    svg: Path | None = SVG,
) -> None:
    """Fit personas from the store (k-means / Gaussian mixture) and show their cards."""
    if ctx.invoked_subcommand is not None:
        return
    if method not in ("kmeans", "gmm", "auto"):
        raise typer.BadParameter("use kmeans, gmm or auto", param_hint="--method")
    options = FitOptions(
        method=method,  # type: ignore[arg-type]
        k=k,
        seed=seed,
        min_sessions=min_sessions,
        bootstrap_rounds=bootstrap,
    )
    progress = Progress(
        TextColumn("[bold]personas[/bold] {task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json,
    )
    task = progress.add_task(STEPS[0], total=len(STEPS))

    def tick(step: str, done: int, _total: int) -> None:
        progress.update(task, description=step, completed=done)

    with closing(open_shop()) as shop, progress, shop.db.transaction() as session:
        model = shop.personas.fit(session, options, on_progress=tick)
    _finish(model, as_json, svg)


@personas_app.command("show")
def show(as_json: bool = JSON, svg: Path | None = SVG) -> None:
    """Show the current persona cards without refitting."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        model = shop.personas.current(session)
    _finish(model, as_json, svg)


@personas_app.command("members")
def members(
    persona_id: int = typer.Argument(..., min=0, help="Persona number (see the cards)."),
    limit: int = typer.Option(20, "--limit", min=1),
    offset: int = typer.Option(0, "--offset", min=0),
) -> None:
    """Customer ids holding a persona of the current model."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        page = shop.personas.members(session, persona_id, limit=limit, offset=offset)
    console.print(f"{page.persona}: {page.total:,} customers (model {page.model_id})")
    for customer_id in page.customers:
        console.print(customer_id)


@personas_app.command("save")
def save(
    persona_id: int = typer.Argument(..., min=0, help="Persona number (see the cards)."),
    name: str | None = typer.Option(None, "--name", help="Segment name (default: persona)."),
) -> None:
    """Save a persona as a segment with the rule persona = "<name>"."""
    with closing(open_shop()) as shop, shop.db.transaction() as session:
        saved = shop.personas.save_segment(session, persona_id, name)
    console.print(f"saved segment [bold]{saved.name}[/bold]: {saved.rule}")


def _finish(model: PersonaModelOut, as_json: bool, svg: Path | None) -> None:
    if svg is not None:
        svg.write_text(persona_map(model))
    if as_json:
        typer.echo(model.model_dump_json(indent=2))
        return
    stability = "n/a" if model.stability is None else f"{model.stability:.2f}"
    console.print(
        f"model {model.id}: {model.method}, k={model.k}, fitted on {model.fitted_on:,} customers "
        f"with {model.min_sessions}+ sessions, {model.customers:,} assigned; "
        f"silhouette {model.silhouette:.2f}, bootstrap stability (ARI) {stability}"
    )
    if model.feature_weights:
        top = sorted(model.feature_weights.items(), key=lambda kv: -kv[1])[:TOP_WEIGHTS]
        console.print("shaped most by: " + ", ".join(f"{name} ×{w:.1f}" for name, w in top))
    for p in model.personas:
        body = "\n".join(f"• {t.phrase}  [dim](z={t.z:+.1f})[/dim]" for t in p.traits)
        title = f"#{p.id} {p.name} — {p.share:.0%} of customers"
        value = f"revenue/customer {p.revenue_per_customer:,.0f}, {p.revenue_share:.0%} of revenue"
        console.print(Panel(f"{p.text}\n\n{body}", title=title, subtitle=value))
    table = Table("#", "persona", "customers", "share", "revenue/customer", "revenue share")
    for p in model.personas:
        table.add_row(
            str(p.id),
            p.name,
            f"{p.size:,}",
            f"{p.share:.0%}",
            f"{p.revenue_per_customer:,.0f}",
            f"{p.revenue_share:.0%}",
        )
    console.print(table)
