"""Privacy response shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErasureOut(BaseModel):
    """The receipt of an erasure. ``target`` is the pseudonym the audit log records."""

    erased: bool = True
    target: str = Field(description="SHA-256 of the erased customer id, as in the audit log.")
    counts: dict[str, int] = Field(description="Rows deleted or anonymised, per table.")
