"""API key shapes. A secret appears in exactly one response: the one that created it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scope: Literal["write", "read", "admin"] = Field(
        description="write: send events (safe in a browser); read: profiles and "
        "recommendations; admin: everything."
    )
    name: str = Field("", max_length=200, description="A label to recognise the key by.")


class KeyOut(BaseModel):
    """A key as listed: never its secret nor its hash; ``prefix`` helps recognise it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    scope: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


class KeyCreated(BaseModel):
    """A new key. ``secret`` is shown this once; only its hash is stored."""

    id: str
    name: str
    scope: str
    secret: str
    created_at: datetime
