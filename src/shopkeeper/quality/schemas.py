"""The scorecard as the API and ``shopkeeper quality --json`` return it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from shopkeeper.quality.checks import DIMENSIONS, TABLES, Finding, Scores

SEVERITIES = ("error", "warning", "info")


class FindingOut(BaseModel):
    """A check that found something: which rows, how many of how many, a few examples."""

    check: str = Field(description="Check id, e.g. ``orders.customer_missing``.")
    table: str
    dimension: str
    severity: str = Field(description="error, warning or info (info never lowers a score).")
    message: str
    affected: int
    total: int
    unit: str = Field(description="What is counted: rows, sources, kinds or source-days.")
    share: float = Field(description="affected / total, 0–1.")
    examples: list[str] = Field(description="Up to 5 ids of affected rows.")


class TableScore(BaseModel):
    table: str
    score: float | None = Field(description="0–100; null when nothing could be scored.")
    dimensions: dict[str, float | None]
    checks: int = Field(description="Checks run on this table.")


class Scorecard(BaseModel):
    """Scores 0–100 (higher is better; null = no data to score) and the findings behind them.

    How the scores are computed is documented in :mod:`shopkeeper.quality.checks`.
    """

    generated_at: datetime
    table: str | None = Field(description="The one table checked, or null for all.")
    overall: float | None
    dimensions: dict[str, float | None]
    tables: list[TableScore]
    findings: list[FindingOut]

    @classmethod
    def build(
        cls,
        findings: Sequence[Finding],
        scores: Scores,
        *,
        generated_at: datetime,
        table: str | None = None,
    ) -> Scorecard:
        checked = [name for name in TABLES if table is None or name == table]
        per_table = {name: sum(1 for f in findings if f.check.table == name) for name in checked}
        found = sorted(
            (f for f in findings if f.count.affected > 0),
            key=lambda f: (
                DIMENSIONS.index(f.check.dimension),
                TABLES.index(f.check.table),
                SEVERITIES.index(f.check.severity),
                -f.count.affected,
            ),
        )
        return cls(
            generated_at=generated_at,
            table=table,
            overall=scores.overall,
            dimensions=dict(scores.dimensions),
            tables=[
                TableScore(
                    table=name,
                    score=scores.tables[name],
                    dimensions=dict(scores.table_dimensions[name]),
                    checks=per_table[name],
                )
                for name in checked
            ],
            findings=[
                FindingOut(
                    check=f.check.id,
                    table=f.check.table,
                    dimension=f.check.dimension,
                    severity=f.check.severity,
                    message=f.message,
                    affected=f.count.affected,
                    total=f.count.total,
                    unit=f.check.unit,
                    share=round(f.count.share, 6),
                    examples=list(f.count.examples),
                )
                for f in found
            ],
        )

    def finding(self, check: str) -> FindingOut | None:
        """The finding of ``check``, or ``None`` if it found nothing."""
        return next((f for f in self.findings if f.check == check), None)
