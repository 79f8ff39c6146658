"""The identity graph (Unomi: Alias): which identifiers belong to which customer, merges and
their undo.

CONTRACT: event ingest calls :meth:`IdentityGraph.observe` inside the writer's transaction, so it
is bulk: a handful of queries per call, not per observation.

Merges keep both rows: the loser is marked ``merged_into_id`` and a ``Merge``
row keeps a snapshot of both profiles, so any merge can be undone. Undo refuses while a later,
still-active merge involves the same winner (undo those first, newest first): the later merge
was computed from the state this undo would change, so restoring around it could not be exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from shopkeeper.clock import Clock
from shopkeeper.customers.repository import find_customer, identities_of
from shopkeeper.errors import Conflict, NotFound
from shopkeeper.identities import repository as repo
from shopkeeper.identities import rules
from shopkeeper.models import AuditEntry, Consent, Customer, Identity, Merge, Order
from shopkeeper.ops.logging import log
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


@dataclass(frozen=True, slots=True)
class MergePlan:
    """A merge worked out but not done: what :meth:`IdentityGraph.merge` would change."""

    winner_id: str
    loser_id: str
    why: str
    identities_moving: list[rules.Key]
    trait_conflicts: list[rules.TraitConflict]
    resulting_traits: dict[str, Any]
    resulting_email: str | None
    orders_moving: list[str]
    consents_moving: int
    refused: str | None


#: What a merge snapshot must hold for :meth:`IdentityGraph.undo` to restore it.
SNAPSHOT_KEYS = frozenset(
    {"winner", "loser", "winner_after", "identity_ids", "order_ids", "consent_ids"}
)


class IdentityGraph:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.blocked = rules.blocked_set(settings.blocked_identity_values)

    def observe(self, session: Session, observations: Sequence[Observation]) -> None:
        """Ensure a profile for every identifier, link and merge as the observations say.

        Bulk: a few ``IN`` queries load every identity the batch mentions, new customers and
        identities go in with batched inserts, links are worked out in memory in order. Only a
        merge of two profiles that already existed before the batch costs statements of its own.
        Identity rules never make ingest fail: a refused link is logged and skipped.
        """
        if not observations:
            return
        from shopkeeper.identities.batch import ObservationBatch

        ObservationBatch(self, session).run(observations)

    def refusal(self, a: set[rules.Key] | frozenset[rules.Key], b: set[rules.Key]) -> str | None:
        """Why the safeguards refuse joining identities ``a`` and ``b``, or ``None``."""
        return rules.refusal(
            a,
            b,
            max_user_ids=self.settings.max_user_ids_per_profile,
            max_identities=self.settings.max_identities_per_profile,
        )

    # -- merges ---------------------------------------------------------------------------

    def preview_merge(self, session: Session, a_identifier: str, b_identifier: str) -> MergePlan:
        """Dry run of merging the customers behind two identifiers; nothing is written."""
        a = self._resolve(session, a_identifier, "a")
        b = self._resolve(session, b_identifier, "b")
        if a.id == b.id:
            raise Conflict(
                f"{a_identifier!r} and {b_identifier!r} are the same customer {a.id}",
                detail={"field": "b"},
            )
        facts = {c.id: _facts(c, identities_of(session, c.id)) for c in (a, b)}
        winner_facts, loser_facts, why = rules.choose_winner(facts[a.id], facts[b.id])
        winner, loser = (a, b) if winner_facts.customer_id == a.id else (b, a)
        traits, conflicts = rules.merge_traits(winner.traits or {}, loser.traits or {})
        return MergePlan(
            winner_id=winner.id,
            loser_id=loser.id,
            why=why,
            identities_moving=sorted(loser_facts.keys),
            trait_conflicts=conflicts,
            resulting_traits=traits,
            resulting_email=winner.email or loser.email,
            orders_moving=repo.order_ids_of(session, loser.id),
            consents_moving=len(repo.consent_ids_of(session, loser.id)),
            refused=self.refusal(winner_facts.keys, set(loser_facts.keys)),
        )

    def merge_customers(
        self, session: Session, a_identifier: str, b_identifier: str, reason: str, *, actor: str
    ) -> Merge:
        """A manual merge: the winner is chosen as :meth:`preview_merge` shows it."""
        plan = self.preview_merge(session, a_identifier, b_identifier)
        if plan.refused:
            raise Conflict(f"merge refused: {plan.refused}", detail={"refused": plan.refused})
        return self.merge(session, plan.winner_id, plan.loser_id, reason, actor=actor)

    def merge(
        self,
        session: Session,
        winner_id: str,
        loser_id: str,
        reason: str,
        *,
        actor: str | None = None,
    ) -> Merge:
        """Merge ``loser_id`` into ``winner_id``; ``actor`` (a person or key) is audited.

        Raises:
            NotFound: a customer id is unknown.
            Conflict: the same customer twice, a merged-away customer, or a safeguard refuses.
        """
        winner = self._live(session, winner_id)
        loser = self._live(session, loser_id)
        if winner.id == loser.id:
            raise Conflict(f"cannot merge customer {winner.id} into itself")
        refused = self.refusal(
            _keys(identities_of(session, winner.id)), _keys(identities_of(session, loser.id))
        )
        if refused:
            raise Conflict(f"merge refused: {refused}", detail={"refused": refused})
        merge = self.execute_merge(session, winner, loser, reason)
        if actor:
            self._audit(session, actor, "customer.merge", merge)
        return merge

    def execute_merge(
        self, session: Session, winner: Customer, loser: Customer, reason: str
    ) -> Merge:
        """Do a merge the caller has already checked; the snapshot makes it undoable."""
        session.flush()
        identity_ids = repo.identity_ids_of(session, loser.id)
        order_ids = repo.order_ids_of(session, loser.id)
        consent_ids = repo.consent_ids_of(session, loser.id)
        before_winner, before_loser = _columns(winner), _columns(loser)
        for model, ids in ((Identity, identity_ids), (Order, order_ids), (Consent, consent_ids)):
            if ids:
                repo.move_rows(session, model, ids, from_customer=loser.id, to_customer=winner.id)
        now = self.clock.now()
        winner.traits, _ = rules.merge_traits(winner.traits or {}, loser.traits or {})
        winner.email = winner.email or loser.email
        winner.first_seen_at = _earliest(winner.first_seen_at, loser.first_seen_at)
        winner.last_seen_at = _latest(winner.last_seen_at, loser.last_seen_at)
        winner.updated_at = now
        loser.merged_into_id = winner.id
        loser.updated_at = now
        merge = Merge(
            winner_id=winner.id,
            loser_id=loser.id,
            reason=reason[:200],
            created_at=now,
            undone_at=None,
            snapshot={
                "version": 1,
                "winner": before_winner,
                "loser": before_loser,
                "winner_after": _columns(winner),
                "identity_ids": identity_ids,
                "order_ids": order_ids,
                "consent_ids": consent_ids,
            },
        )
        session.add(merge)
        session.flush()
        log.debug("identity.merged", merge_id=merge.id, winner=winner.id, loser=loser.id)
        return merge

    def list_merges(
        self, session: Session, customer_identifier: str | None = None, *, limit: int = 100
    ) -> list[Merge]:
        """The latest merges, newest first; with an identifier only those its customer won or
        lost (a merged-away customer id lists its own merges, not its winner's)."""
        if customer_identifier is None:
            return repo.merges_involving(session, None, limit)
        customer = session.get(Customer, customer_identifier) or self._resolve(
            session, customer_identifier, "customer"
        )
        return repo.merges_involving(session, customer.id, limit)

    def undo(self, session: Session, merge_id: int, *, actor: str | None = None) -> Merge:
        """Put both profiles back as they were before merge ``merge_id``.

        The moved identities, orders and consent rows go back to the loser and the loser's
        columns are restored exactly. The winner's traits, e-mail and seen times are restored
        three-way: a value changed after the merge (a later identify call) is kept, the rest go
        back to their pre-merge values. ``updated_at`` of both becomes now.

        Raises:
            NotFound: no such merge.
            Conflict: already undone, a later active merge involves the winner, or a profile
                has gone (erased).
        """
        merge = session.get(Merge, merge_id)
        if merge is None:
            raise NotFound(f"no merge {merge_id}", detail={"field": "merge_id"})
        if merge.undone_at is not None:
            raise Conflict(f"merge {merge_id} was already undone at {merge.undone_at.isoformat()}")
        later = repo.later_active_merges(session, merge)
        if later:
            ids = [m.id for m in later]
            raise Conflict(
                f"merge {merge_id} cannot be undone while later merges of {merge.winner_id} are "
                f"active: undo {', '.join(map(str, reversed(ids)))} first",
                detail={"blocking_merges": ids},
            )
        winner = session.get(Customer, merge.winner_id)
        loser = session.get(Customer, merge.loser_id)
        if winner is None or loser is None or loser.merged_into_id != winner.id:
            raise Conflict(f"merge {merge_id} cannot be undone: its profiles have changed or gone")
        snap = merge.snapshot or {}
        if not SNAPSHOT_KEYS.issubset(snap):
            raise Conflict(f"merge {merge_id} has no undo snapshot (it was not made by the graph)")
        session.flush()
        moved = ((Identity, "identity_ids"), (Order, "order_ids"), (Consent, "consent_ids"))
        for model, key in moved:
            if snap[key]:
                repo.move_rows(
                    session, model, snap[key], from_customer=winner.id, to_customer=loser.id
                )
        now = self.clock.now()
        _restore_loser(loser, snap["loser"])
        _restore_winner(winner, snap["winner"], snap["winner_after"])
        winner.updated_at = loser.updated_at = now
        merge.undone_at = now
        session.flush()
        if actor:
            self._audit(session, actor, "customer.merge_undo", merge)
        log.info("identity.merge_undone", merge_id=merge.id, winner=winner.id, loser=loser.id)
        return merge

    # -- internals -----------------------------------------------------------------------

    def _resolve(self, session: Session, identifier: str, field: str) -> Customer:
        customer = find_customer(session, identifier)
        if customer is None:
            raise NotFound(f"no customer {identifier!r}", detail={"field": field})
        return customer

    def _live(self, session: Session, customer_id: str) -> Customer:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id!r}", detail={"field": "customer_id"})
        if customer.merged_into_id:
            raise Conflict(f"customer {customer_id} was merged into {customer.merged_into_id}")
        return customer

    def _audit(self, session: Session, actor: str, action: str, merge: Merge) -> None:
        session.add(
            AuditEntry(
                at=self.clock.now(),
                actor=actor[:100],
                action=action,
                target=f"merge:{merge.id}",
                detail={
                    "winner_id": merge.winner_id,
                    "loser_id": merge.loser_id,
                    "reason": merge.reason,
                },
            )
        )


def _keys(identities: Sequence[Identity]) -> set[rules.Key]:
    return {(i.kind, i.value) for i in identities}


def _facts(customer: Customer, identities: Sequence[Identity]) -> rules.ProfileFacts:
    return rules.ProfileFacts(
        customer.id, frozenset(_keys(identities)), customer.first_seen_at, customer.created_at
    )


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(x for x in (a, b) if x is not None) if (a or b) else None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(x for x in (a, b) if x is not None) if (a or b) else None


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _columns(customer: Customer) -> dict[str, Any]:
    """A customer's columns as JSON, for the merge snapshot."""
    return {
        "id": customer.id,
        "created_at": _iso(customer.created_at),
        "updated_at": _iso(customer.updated_at),
        "first_seen_at": _iso(customer.first_seen_at),
        "last_seen_at": _iso(customer.last_seen_at),
        "email": customer.email,
        "traits": dict(customer.traits or {}),
        "merged_into_id": customer.merged_into_id,
    }


def _restore_loser(loser: Customer, before: Mapping[str, Any]) -> None:
    loser.email = before["email"]
    loser.traits = dict(before["traits"])
    loser.first_seen_at = _parse(before["first_seen_at"])
    loser.last_seen_at = _parse(before["last_seen_at"])
    loser.merged_into_id = before["merged_into_id"]


def _restore_winner(winner: Customer, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    current = _columns(winner)
    winner.traits = rules.restore_traits(before["traits"], after["traits"], current["traits"])
    winner.email = rules.restore_value(before["email"], after["email"], current["email"])
    for column in ("first_seen_at", "last_seen_at"):
        value = rules.restore_value(before[column], after[column], current[column])
        setattr(winner, column, _parse(value))
