"""The identity graph (Unomi: Alias): which identifiers belong to which customer, merges and their undo.

CONTRACT (implemented by the customers work; called by event ingest inside the writer's
transaction, so it must be bulk: a handful of queries per call, not per observation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shopkeeper.clock import Clock
from shopkeeper.settings import Settings


@dataclass(frozen=True, slots=True)
class Observation:
    """What one newly stored event tells about identities and the profile.

    ``reason`` is the event type (``identify``, ``alias``, ``track``, ``page``...). ``traits``
    are identify traits to merge into the profile; ``consent`` maps purpose -> granted.
    """

    timestamp: datetime
    reason: str
    user_id: str | None = None
    anonymous_id: str | None = None
    previous_id: str | None = None
    email: str | None = None
    traits: Mapping[str, Any] | None = None
    consent: Mapping[str, bool] | None = None


class IdentityGraph:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def observe(self, session: Session, observations: Sequence[Observation]) -> None:
        """Ensure a profile for every identifier, link and merge as the observations say."""
        raise NotImplementedError
