"""``shopkeeper segments create|list|show|update|delete|evaluate|members|export|cross|priorities``.

Rules come from a JSON or YAML file (``--file rule.yaml``) or inline (``--rule '{...}'``);
results are Rich tables, ``--json`` prints the API's document instead.
"""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopkeeper.cli import app, console, open_shop
from shopkeeper.errors import Invalid
from shopkeeper.segments import charts
from shopkeeper.segments.rules import MAX_TEXT

segments_app = typer.Typer(help="Segments: stored rules, members over time, audiences.")
app.add_typer(segments_app, name="segments")

JSON = typer.Option(False, "--json", help="Print the result as JSON (the API's shape).")


def _rule_text(file: Path | None, rule: str | None) -> str | None:
    if file is not None and rule is not None:
        raise Invalid("give --file or --rule, not both", detail={"field": "rule"})
    if file is None:
        return rule
    if str(file) == "-":
        return sys.stdin.read(MAX_TEXT + 1)
    if not file.is_file():
        raise Invalid(f"no such file: {file}", detail={"field": "file"})
    if file.stat().st_size > MAX_TEXT:
        raise Invalid(f"{file} is larger than {MAX_TEXT // 1024} KB", detail={"field": "file"})
    return file.read_text(encoding="utf-8")


@segments_app.command("create")
def create(
    name: str = typer.Argument(..., help="The segment's name (the slug is made from it)."),
    file: Path | None = typer.Option(
        None, "--file", "-f", help="Rule as JSON or YAML ('-': stdin)."
    ),
    rule: str | None = typer.Option(None, "--rule", help="Rule inline, as JSON or YAML."),
    description: str = typer.Option("", "--description"),
    slug: str | None = typer.Option(None, "--slug"),
    kind: str = typer.Option("rule", "--kind", help="rule, persona or builtin."),
    as_json: bool = JSON,
) -> None:
    """Validate and store a segment (errors name the offending part of the rule)."""
    text = _rule_text(file, rule)
    if text is None:
        raise Invalid("give the rule with --file or --rule", detail={"field": "rule"})
    with closing(open_shop()) as shop, shop.db.transaction() as session:
        segment = shop.segments.create(
            session, name, text, description=description, kind=kind, slug=slug
        )
        out = shop.segments.out(session, segment)
    if as_json:
        typer.echo(out.model_dump_json(indent=2))
        return
    console.print(f"created [bold]{out.slug}[/bold] ({out.id}): {out.rule_text}")


@segments_app.command("builtin")
def builtin() -> None:
    """Install the built-in traffic segments (tenure, channel, device, country, ...)."""
    with closing(open_shop()) as shop, shop.db.transaction() as session:
        added = shop.segments.install_builtin(session)
    console.print(f"installed {added} built-in segments (the others were there already)")


@segments_app.command("list")
def list_segments(as_json: bool = JSON) -> None:
    """Stored segments with their current size."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        found = shop.segments.list(session)
    if as_json:
        typer.echo("[" + ",".join(s.model_dump_json() for s in found) + "]")
        return
    table = Table("slug", "name", "kind", "v", "members", "evaluated", "rule")
    for s in found:
        table.add_row(
            s.slug,
            s.name,
            s.kind,
            str(s.version),
            "–" if s.size is None else f"{s.size:,}",
            f"{s.evaluated_at:%Y-%m-%d %H:%M}" if s.evaluated_at else "never",
            s.rule_text,
        )
    console.print(table)


@segments_app.command("show")
def show(
    key: str = typer.Argument(..., help="Segment id or slug."),
    svg: Path | None = typer.Option(None, "--svg", help="Also write the size chart as SVG."),
    as_json: bool = JSON,
) -> None:
    """Definition, current size and size history."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        detail = shop.segments.show(session, key)
    if svg is not None:
        svg.write_text(charts.size_history(detail))
    if as_json:
        typer.echo(detail.model_dump_json(indent=2))
        return
    size = "never evaluated" if detail.size is None else f"{detail.size:,} members"
    console.print(
        f"[bold]{detail.name}[/bold] ({detail.slug}, v{detail.version}, {detail.kind}): {size}"
    )
    if detail.description:
        console.print(detail.description)
    console.print(f"rule: {detail.rule_text}")
    table = Table("evaluated", "version", "size", "entered", "exited", title="size over time")
    for p in detail.history:
        table.add_row(
            f"{p.evaluated_at:%Y-%m-%d %H:%M}",
            str(p.version),
            f"{p.size:,}",
            f"+{p.entered:,}",
            f"-{p.exited:,}",
        )
    console.print(table)


@segments_app.command("update")
def update(
    key: str = typer.Argument(..., help="Segment id or slug."),
    file: Path | None = typer.Option(None, "--file", "-f", help="New rule as JSON or YAML."),
    rule: str | None = typer.Option(None, "--rule", help="New rule inline."),
    name: str | None = typer.Option(None, "--name"),
    description: str | None = typer.Option(None, "--description"),
) -> None:
    """Change a segment; a new rule is a new version."""
    text = _rule_text(file, rule)
    with closing(open_shop()) as shop, shop.db.transaction() as session:
        segment = shop.segments.update(session, key, name=name, description=description, rule=text)
        console.print(f"{segment.slug} is at version {segment.version}")


@segments_app.command("delete")
def delete(key: str = typer.Argument(..., help="Segment id or slug.")) -> None:
    """Delete a segment with its memberships and size history."""
    with closing(open_shop()) as shop, shop.db.transaction() as session:
        shop.segments.delete(session, key)
    console.print(f"deleted {key}")


@segments_app.command("evaluate")
def evaluate(
    key: str | None = typer.Argument(None, help="One segment (default: all)."),
    as_json: bool = JSON,
) -> None:
    """Evaluate segments now: record who entered and exited, and the sizes."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        closing(open_shop()) as shop,
        Progress(*columns, console=console, disable=as_json) as progress,
    ):
        task = progress.add_task("loading the store and deciding every rule", total=None)

        def on_progress(done: int, total: int, slug: str) -> None:
            progress.update(task, completed=done, total=total, description=f"written {slug}")

        with shop.db.sessions() as session:  # the engine's work holds no write lock
            decision = shop.segments.decide(session, key)
        with shop.db.transaction() as session:
            report = shop.segments.record(session, decision, on_progress=on_progress)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    table = Table(
        "segment", "v", "members", "entered", "exited",
        title=f"{report.customers:,} customers evaluated in {report.seconds:.1f} s",
    )  # fmt: skip
    for e in report.segments:
        table.add_row(e.slug, str(e.version), f"{e.size:,}", f"+{e.entered:,}", f"-{e.exited:,}")
    console.print(table)


@segments_app.command("members")
def members(
    key: str = typer.Argument(..., help="Segment id or slug."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    after: str | None = typer.Option(None, "--after", help="Customer id to continue after."),
    as_json: bool = JSON,
) -> None:
    """Current members, in customer-id order."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        page = shop.segments.members(session, key, limit=limit, after=after)
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    table = Table("customer", "member since")
    for m in page.members:
        table.add_row(m.customer_id, f"{m.entered_at:%Y-%m-%d %H:%M}")
    console.print(table)
    if page.next_after:
        console.print(f"more: --after {page.next_after}")


@segments_app.command("export")
def export(
    key: str = typer.Argument(..., help="Segment id or slug."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
    ids: bool = typer.Option(
        False, "--ids", help="Plain customer ids instead of the hashed-e-mail audience."
    ),
) -> None:
    """Audience CSV: SHA-256 of normalised e-mails of members with advertising consent."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        lines = list(shop.segments.export_csv(session, key, hashed=not ids))
    if output is None:
        sys.stdout.write("".join(lines))
        return
    output.write_text("".join(lines), encoding="utf-8", newline="")
    console.print(f"wrote {len(lines) - 1:,} rows to {output}", highlight=False)


@segments_app.command("cross")
def cross(
    keys: list[str] = typer.Argument(..., help="2 or 3 segment ids or slugs."),
    as_json: bool = JSON,
) -> None:
    """Customers in each combination of 2 or 3 segments."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        report = shop.segments.cross(session, keys)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    table = Table(*report.segments, "customers", "share", title=f"{report.customers:,} customers")
    for cell in report.cells:
        marks: list[Any] = ["✓" if slug in cell.inside else "" for slug in report.segments]
        table.add_row(*marks, f"{cell.customers:,}", f"{cell.share:.1%}")
    console.print(table)


@segments_app.command("priorities")
def priorities(
    window_days: int = typer.Option(90, "--window-days", min=1, max=3650),
    as_json: bool = JSON,
) -> None:
    """Segments ranked by expected value per unit of effort."""
    with closing(open_shop()) as shop, shop.db.sessions() as session:
        report = shop.segments.priorities(session, window_days=window_days)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    table = Table(
        "#", "segment", "size", "conv.", "AOV", "exp. value", "CLV", "reach", "effort", "score",
        title=f"value basis: {report.basis}, last {report.window_days} days",
    )  # fmt: skip
    for p in report.segments:
        table.add_row(
            str(p.rank),
            p.slug,
            f"{p.size:,}",
            f"{p.conversion_rate:.1%}",
            f"{p.aov:,.2f}",
            f"{p.expected_value:,.2f}",
            "–" if p.clv_sum is None else f"{p.clv_sum:,.2f}",
            f"{p.reach:.0%}",
            str(p.effort),
            f"{p.score:,.2f}",
        )
    console.print(table)
    console.print(report.formula, highlight=False)
