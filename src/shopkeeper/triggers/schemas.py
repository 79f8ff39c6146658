"""Trigger definitions and firings as the API and CLI show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TriggerOut(BaseModel):
    """One trigger definition (``GET /v1/triggers``)."""

    name: str
    description: str
    rule: dict[str, Any] = Field(description="The condition in the segment rule language.")
    cooldown_seconds: int
    window_seconds: int = Field(description="How far back the rule looks (widest aggregate).")
    on: list[str] | None = Field(description="Event kinds whose arrival evaluates it (null: all).")
    per: str | None = Field(description="'category': evaluated inside each top-level category.")
    swept: bool = Field(description="Time-based: also evaluated by `shopkeeper triggers run`.")


class TriggerList(BaseModel):
    enabled: bool = Field(description="False when SHOPKEEPER_TRIGGERS=off.")
    triggers: list[TriggerOut]


class FiredOut(BaseModel):
    """One ``trigger_fired`` event: which trigger, when, and the evidence."""

    id: int
    trigger: str
    at: datetime
    description: str | None
    evidence: dict[str, Any]


class FiredPage(BaseModel):
    """A customer's firings, newest first (``GET /v1/customers/{id}/triggers``)."""

    customer_id: str
    fired: list[FiredOut]


class SweepResult(BaseModel):
    """What ``shopkeeper triggers run`` did."""

    at: datetime
    people: int
    fired: int
