"""What an import reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ImportSummary:
    """The outcome of one ``shopkeeper import`` run.

    Every data row read lands in exactly one of ``accepted``, ``duplicates`` and ``rejected``:
    ``duplicates`` are rows that added nothing (an exact repeat inside the file, or a row of an
    order that was already stored identically), so a second import of the same file reports
    ``accepted == 0``.
    """

    format: str
    files: list[Path] = field(default_factory=list)
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    orders_unchanged: int = 0
    customers_created: int = 0
    products_created: int = 0
    products_updated: int = 0
    events_accepted: int = 0
    rejects_path: Path | None = None
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0
