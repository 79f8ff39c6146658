"""Segments in and out of the API and CLI (Pydantic): definitions, sizes, members, reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SegmentKind = Literal["rule", "persona", "builtin"]
SLUG = r"^[a-z0-9][a-z0-9_\-]{0,99}$"


class SegmentIn(BaseModel):
    """``POST /v1/segments``: a rule with a name. The rule is validated on save (422 naming the
    offending part, e.g. ``rule.all[1].field``); the slug defaults to the name, slugified."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, pattern=SLUG)
    description: str = Field("", max_length=2000)
    kind: SegmentKind = "rule"
    rule: Any


class SegmentUpdate(BaseModel):
    """``PUT /v1/segments/{id}``: fields left out are kept; a new rule makes a new version."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    rule: Any = None


class SizePoint(BaseModel):
    """The segment after one evaluation."""

    evaluated_at: datetime
    version: int
    size: int
    entered: int
    exited: int


class SegmentOut(BaseModel):
    id: str
    slug: str
    name: str
    description: str
    kind: SegmentKind
    rule: dict[str, Any]
    rule_text: str
    version: int
    created_at: datetime
    updated_at: datetime
    evaluated_at: datetime | None
    size: int | None = Field(description="Current members (None: never evaluated).")


class SegmentDetail(SegmentOut):
    history: list[SizePoint]


class SegmentList(BaseModel):
    segments: list[SegmentOut]


class Evaluation(BaseModel):
    """What one evaluation did to one segment."""

    id: str
    slug: str
    version: int
    size: int
    entered: int
    exited: int


class EvaluationReport(BaseModel):
    evaluated_at: datetime
    customers: int
    seconds: float
    segments: list[Evaluation]


class Member(BaseModel):
    customer_id: str
    entered_at: datetime


class MemberPage(BaseModel):
    segment_id: str
    members: list[Member]
    next_after: str | None = Field(description="Pass as ``after`` for the next page.")


class CustomerSegment(BaseModel):
    """One stored segment the customer matches now, and why (the rule parts that were true)."""

    id: str
    slug: str
    name: str
    kind: SegmentKind
    reasons: list[str]
    member_since: datetime | None = Field(
        description="Start of the stored membership (None: not yet recorded by an evaluation)."
    )


class CustomerSegments(BaseModel):
    customer_id: str
    evaluated_at: datetime
    segments: list[CustomerSegment]


class CrossCell(BaseModel):
    """Customers in exactly this combination of the crossed segments."""

    inside: list[str] = Field(description="Slugs of the crossed segments the cell is in.")
    customers: int
    share: float = Field(description="Of all live customers.")


class CrossReport(BaseModel):
    segments: list[str]
    customers: int
    cells: list[CrossCell]


class Priority(BaseModel):
    """A segment ranked by expected value per unit of effort (formula in the README)."""

    rank: int
    id: str
    slug: str
    name: str
    size: int
    conversion_rate: float
    aov: float
    expected_value: float
    clv_sum: float | None
    value: float
    reach: float = Field(description="Share of members with e-mail or advertising consent.")
    effort: int = Field(description="1 low, 2 medium, 3 high.")
    score: float


class PriorityReport(BaseModel):
    basis: Literal["orders", "clv"]
    window_days: int
    formula: str
    segments: list[Priority]
