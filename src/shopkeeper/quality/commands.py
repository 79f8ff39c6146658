"""``shopkeeper quality [--json] [--table X]``: the data-quality scorecard in the terminal."""

from __future__ import annotations

from contextlib import closing

import typer
from rich.table import Table
from rich.text import Text

from shopkeeper.cli import app, console, open_shop
from shopkeeper.quality.checks import DIMENSIONS
from shopkeeper.quality.schemas import Scorecard
from shopkeeper.quality.service import QualityService

SEVERITY_STYLES = {"error": "red", "warning": "yellow", "info": "blue"}


@app.command("quality")
def quality(
    table: str | None = typer.Option(None, "--table", help="Only this table (e.g. orders)."),
    as_json: bool = typer.Option(False, "--json", help="Print the scorecard as JSON."),
) -> None:
    """Score the store's data quality (0–100) and list findings with counts and examples."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        card = QualityService(shop).scorecard(session, table)
    if as_json:
        typer.echo(card.model_dump_json(indent=2))
        return
    for renderable in scorecard_tables(card):
        console.print(renderable)


def score_text(value: float | None) -> Text:
    """A score coloured by how good it is: green ≥ 90, yellow ≥ 70, red below; ``–`` if none."""
    if value is None:
        return Text("–", style="dim")
    style = "green" if value >= 90 else "yellow" if value >= 70 else "red"
    return Text(f"{value:.1f}", style=f"bold {style}")


def scorecard_tables(card: Scorecard) -> list[Table | Text]:
    """The overall score, a table × dimension grid, then one table of findings per dimension."""
    title = Text("Data quality: overall ")
    title.append_text(score_text(card.overall))
    grid = Table("table", *DIMENSIONS, "score", title="Scores (0–100)", title_justify="left")
    for row in card.tables:
        grid.add_row(
            row.table, *(score_text(row.dimensions[d]) for d in DIMENSIONS), score_text(row.score)
        )
    grid.add_row(
        Text("all tables", style="bold"),
        *(score_text(card.dimensions[d]) for d in DIMENSIONS),
        score_text(card.overall),
    )
    out: list[Table | Text] = [title, grid]
    for dimension in DIMENSIONS:
        findings = [f for f in card.findings if f.dimension == dimension]
        heading = Text(f"{dimension} ")
        heading.append_text(score_text(card.dimensions[dimension]))
        if not findings:
            out.append(heading + Text(": no findings", style="dim"))
            continue
        table = Table("table", "severity", "check", "affected", "finding", "examples")
        table.title, table.title_justify = heading, "left"
        for f in findings:
            table.add_row(
                f.table,
                Text(f.severity, style=SEVERITY_STYLES.get(f.severity, "")),
                f.check,
                f"{f.affected:,} / {f.total:,} {f.unit} ({f.share:.1%})",
                f.message,
                ", ".join(f.examples),
            )
        out.append(table)
    return out
