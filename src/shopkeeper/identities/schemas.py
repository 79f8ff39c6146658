"""Merge API shapes: a merge request, the dry-run plan, and the merge log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopkeeper.identities.service import MergePlan
from shopkeeper.models import Merge


class MergePair(BaseModel):
    """Two customers, each by customer id, userId, anonymousId, e-mail or loyalty id."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    a: str = Field(min_length=1, max_length=320)
    b: str = Field(min_length=1, max_length=320)


class MergeRequest(MergePair):
    reason: str = Field("manual merge", min_length=1, max_length=200)


class IdentityKey(BaseModel):
    kind: str
    value: str


class TraitConflictOut(BaseModel):
    """A trait both profiles set differently: the winner's value is kept."""

    key: str
    winner_value: Any
    loser_value: Any


class MergePlanOut(BaseModel):
    """What a merge would do. ``allowed`` is false when a safeguard would refuse it."""

    winner_id: str
    loser_id: str
    why: str
    allowed: bool
    refused: str | None
    identities_moving: list[IdentityKey]
    trait_conflicts: list[TraitConflictOut]
    resulting_traits: dict[str, Any]
    resulting_email: str | None
    orders_moving: list[str]
    consents_moving: int

    @classmethod
    def from_plan(cls, plan: MergePlan) -> MergePlanOut:
        return cls(
            winner_id=plan.winner_id,
            loser_id=plan.loser_id,
            why=plan.why,
            allowed=plan.refused is None,
            refused=plan.refused,
            identities_moving=[IdentityKey(kind=k, value=v) for k, v in plan.identities_moving],
            trait_conflicts=[
                TraitConflictOut(key=c.key, winner_value=c.winner_value, loser_value=c.loser_value)
                for c in plan.trait_conflicts
            ],
            resulting_traits=plan.resulting_traits,
            resulting_email=plan.resulting_email,
            orders_moving=plan.orders_moving,
            consents_moving=plan.consents_moving,
        )


class MergeOut(BaseModel):
    """One entry of the merge log (the undo snapshot itself is not exposed: it holds PII)."""

    id: int
    winner_id: str
    loser_id: str
    reason: str
    created_at: datetime
    undone_at: datetime | None
    identities_moved: int
    orders_moved: int
    consents_moved: int

    @classmethod
    def from_merge(cls, merge: Merge) -> MergeOut:
        snapshot = merge.snapshot or {}
        return cls(
            id=merge.id,
            winner_id=merge.winner_id,
            loser_id=merge.loser_id,
            reason=merge.reason,
            created_at=merge.created_at,
            undone_at=merge.undone_at,
            identities_moved=len(snapshot.get("identity_ids", [])),
            orders_moved=len(snapshot.get("order_ids", [])),
            consents_moved=len(snapshot.get("consent_ids", [])),
        )


class MergeList(BaseModel):
    merges: list[MergeOut]
