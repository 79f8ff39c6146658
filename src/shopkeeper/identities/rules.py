"""The identity graph's rules, with no database or web imports so they can be tested alone.

What counts as a usable identifier, which of two profiles survives a merge, which merges the
safeguards refuse, how traits combine, and how an undo puts a profile back without losing what
happened to it after the merge.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

USER_ID = "user_id"
ANONYMOUS_ID = "anonymous_id"
EMAIL = "email"
LOYALTY_ID = "loyalty_id"

#: Longest identifier stored (the ``identities.value`` column); longer ones are ignored.
MAX_VALUE_LENGTH = 320

#: An identity as the graph compares it: ``(kind, value)``.
Key = tuple[str, str]

_MISSING: Any = object()


def blocked_set(values: Iterable[str]) -> frozenset[str]:
    """Blocked identifier values, compared stripped and case-insensitively."""
    return frozenset(value.strip().lower() for value in values)


def clean_identifier(value: str | None, blocked: frozenset[str]) -> str | None:
    """``value`` if it may identify someone, else ``None``.

    The value is kept as sent (events store it that way, and a profile is matched to its events
    by exact identifier); only the blocked-value check strips and lower-cases. Placeholders such
    as ``"null"`` or ``"undefined"`` that a buggy tag sends for every visitor would otherwise
    merge all of them into one profile.
    """
    if value is None or len(value) > MAX_VALUE_LENGTH:
        return None
    folded = value.strip().lower()
    if not folded or folded in blocked:
        return None
    return value


def normalise_email(value: str | None, blocked: frozenset[str]) -> str | None:
    """The e-mail stripped and lower-cased, or ``None`` if blocked or obviously not an address."""
    if not value:
        return None
    email = value.strip().lower()
    if not email or email in blocked or "@" not in email or len(email) > MAX_VALUE_LENGTH:
        return None
    return email


@dataclass(frozen=True, slots=True)
class ProfileFacts:
    """What the winner rule needs to know about one profile."""

    customer_id: str
    keys: frozenset[Key]
    first_seen_at: datetime | None
    created_at: datetime

    @property
    def is_known(self) -> bool:
        return any(kind == USER_ID for kind, _ in self.keys)


def choose_winner(a: ProfileFacts, b: ProfileFacts) -> tuple[ProfileFacts, ProfileFacts, str]:
    """``(winner, loser, why)``: a known profile (one with a userId) beats an anonymous one;
    between equals the older profile wins, so long-lived customer ids stay stable."""
    if a.is_known != b.is_known:
        winner, loser = (a, b) if a.is_known else (b, a)
        return winner, loser, "the winner has a userId and the other profile is anonymous"

    def age(p: ProfileFacts) -> tuple[datetime, datetime, str]:
        return (p.first_seen_at or p.created_at, p.created_at, p.customer_id)

    winner, loser = (a, b) if age(a) <= age(b) else (b, a)
    kind = "known" if a.is_known else "anonymous"
    return winner, loser, f"both profiles are {kind}; the winner was seen first"


def refusal(
    a: Collection[Key], b: Collection[Key], *, max_user_ids: int, max_identities: int
) -> str | None:
    """Why joining identities ``a`` and ``b`` into one profile is refused, or ``None``.

    These are Segment's identity-resolution limits: two different userIds on one profile usually
    mean a shared device or a bad tag, not one person, so the merge is refused rather than done.
    """
    union = set(a) | set(b)
    user_ids = sum(1 for kind, _ in union if kind == USER_ID)
    if user_ids > max_user_ids:
        return f"the profile would hold {user_ids} userIds (limit {max_user_ids})"
    if len(union) > max_identities:
        return f"the profile would hold {len(union)} identities (limit {max_identities})"
    return None


@dataclass(frozen=True, slots=True)
class TraitConflict:
    key: str
    winner_value: Any
    loser_value: Any


def merge_traits(
    winner: Mapping[str, Any], loser: Mapping[str, Any]
) -> tuple[dict[str, Any], list[TraitConflict]]:
    """The winner's traits with the loser's filling the gaps, and the keys both set differently."""
    merged = {**loser, **winner}
    conflicts = [
        TraitConflict(key, winner[key], loser[key])
        for key in sorted(winner.keys() & loser.keys())
        if winner[key] != loser[key]
    ]
    return merged, conflicts


def restore_value(before: Any, after: Any, current: Any) -> Any:
    """Three-way restore of one value: back to ``before`` unless it changed since the merge
    (``current != after``), in which case the later change is kept."""
    return current if current != after else before


def restore_traits(
    before: Mapping[str, Any], after: Mapping[str, Any], current: Mapping[str, Any]
) -> dict[str, Any]:
    """Three-way restore of a traits mapping, key by key (see :func:`restore_value`).

    With no change since the merge this gives exactly ``before``; a trait an identify call set
    on the winner after the merge survives the undo.
    """
    restored: dict[str, Any] = {}
    for key in dict.fromkeys([*before, *after, *current]):
        value = restore_value(
            before.get(key, _MISSING), after.get(key, _MISSING), current.get(key, _MISSING)
        )
        if value is not _MISSING:
            restored[key] = value
    return restored
