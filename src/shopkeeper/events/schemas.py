"""The Segment / RudderStack HTTP Tracking API message, as the official SDKs send it.

Field names follow the spec (``userId``, ``anonymousId``, ``messageId``...). Unknown top-level
fields are accepted and not stored (``extra="ignore"``): SDKs add their own (``integrations``,
``version``). ``properties``, ``traits`` and ``context`` are checked to be objects and kept as
sent, neither copied nor their keys re-validated: this model runs for every ingested event, and
that was a fifth of its cost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, field_validator, model_validator

CallType = Literal["track", "identify", "page", "screen", "group", "alias"]
CALL_TYPES: tuple[str, ...] = ("track", "identify", "page", "screen", "group", "alias")
#: The identifier fields: strings or integers, stored as trimmed text (:func:`id_text`).
ID_FIELDS = ("userId", "anonymousId", "previousId", "groupId")


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    type: CallType
    messageId: str | None = Field(None, max_length=100)
    userId: str | None = None
    anonymousId: str | None = None
    previousId: str | None = None
    groupId: str | None = None
    event: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=200)
    properties: SkipValidation[dict[str, Any] | None] = None
    traits: SkipValidation[dict[str, Any] | None] = None
    context: SkipValidation[dict[str, Any] | None] = None
    timestamp: datetime | None = None
    originalTimestamp: datetime | None = None
    sentAt: datetime | None = None

    @field_validator(*ID_FIELDS, mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> str | None:
        return id_text(value)

    @model_validator(mode="after")
    def _required_for_type(self) -> Message:
        for name, value in (
            ("properties", self.properties),
            ("traits", self.traits),
            ("context", self.context),
        ):
            if value is not None and not isinstance(value, dict):
                raise ValueError(f"'{name}' must be an object")
        problem = missing_for_type(self)
        if problem:
            raise ValueError(problem)
        return self


def id_text(value: Any) -> str | None:
    """An identifier as the store keeps it: trimmed text, integers as their digits."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("identifiers must be strings or integers")
    text = str(value).strip()
    if len(text) > 320:
        raise ValueError("identifiers are at most 320 characters")
    return text or None


def missing_for_type(call: Any) -> str | None:
    """What a call of its type lacks (the field named in quotes), or None."""
    if call.type == "track" and not call.event:
        return "track calls need 'event'"
    if call.type == "alias":
        if not call.previousId:
            return "alias calls need 'previousId'"
        if not call.userId:
            return "alias calls need 'userId'"
    elif not (call.userId or call.anonymousId):
        return "every call needs 'userId' or 'anonymousId'"
    if call.type == "group" and not call.groupId:
        return "group calls need 'groupId'"
    return None


class EventError(BaseModel):
    """One rejected event of a request: its index in the batch, the field, and why."""

    index: int
    field: str
    message: str


class IngestResponse(BaseModel):
    success: bool
    accepted: int = Field(description="Events stored by this request.")
    duplicates: int = Field(description="Events whose messageId was already stored (ignored).")
    errors: list[EventError] = Field(default_factory=list)
