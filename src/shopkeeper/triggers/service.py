"""Evaluating triggers for the people behind newly committed events, and the periodic sweep.

Flow for a committed batch (:meth:`TriggerService.react`, called once per batch by the
event writer after the batch is acknowledged):

1. keep the new events whose kind is a moment to evaluate some trigger (``Trigger.on``) and
   that are recent (``triggers_max_age_days``: history imported today wakes nothing);
2. resolve their userId / anonymousId to customers and load, in one query per 500
   identifiers, every event of those customers inside the widest trigger window before the
   earliest arriving event — with product category, brand and tier joined in;
3. load their earlier ``trigger_fired`` events (cooldowns);
4. for each person and trigger, evaluate at each arriving event's time (event time, not
   the wall clock: with no age limit a replayed or simulated history fires as it would
   have live), skipping
   moments inside the cooldown of a firing, stored or just made;
5. append one ``trigger_fired`` event per firing, with the trigger name and its evidence.

A firing's messageId is derived from (trigger, customer, moment), so replaying a batch never
fires twice. The sweep (:meth:`TriggerService.sweep`, ``shopkeeper triggers run``) evaluates
the time-based triggers (``sweep_kinds``; the built-in ``cart_abandoned``) at the clock's
``now`` for everyone with a matching event in the trigger's window: the person whose cart was
abandoned sends no further event that could wake the trigger.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from shopkeeper.customers import repository as customers_repository
from shopkeeper.errors import NotFound
from shopkeeper.events import repository as events_repository
from shopkeeper.events.kinds import SYSTEM_KINDS, TRIGGER_FIRED
from shopkeeper.segments.realtime import EventFacts
from shopkeeper.segments.triggers import BUILTIN_TRIGGERS, Firing, Gate, Trigger, evaluate
from shopkeeper.triggers import repository
from shopkeeper.triggers.schemas import FiredOut, FiredPage, SweepResult, TriggerOut

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

#: (timestamp, kind, userId, anonymousId) of one arriving event.
Arrival = tuple[datetime, str, str | None, str | None]
Progress = Callable[[int, int], None]
#: The kind of the moments a sweep evaluates at (not an event kind: nothing arrived).
SWEEP = "(sweep)"


@dataclass
class _Person:
    """One customer's arriving moments, events and past firings while a batch is evaluated."""

    customer_id: str
    arrivals: list[Arrival] = field(default_factory=list)
    events: list[EventFacts] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    fired: dict[str, list[datetime]] = field(default_factory=dict)


class TriggerService:
    """The built-in triggers (or those given), evaluated for people as their events arrive."""

    def __init__(self, shop: Shopkeeper, triggers: Sequence[Trigger] = BUILTIN_TRIGGERS) -> None:
        self.shop = shop
        self.triggers = tuple(triggers)
        self._kinds = (
            None
            if any(t.on is None for t in self.triggers)
            else frozenset(k for t in self.triggers for k in t.on or ())
        )

    # --- definitions ----------------------------------------------------------------------

    def definitions(self) -> list[TriggerOut]:
        return [
            TriggerOut(
                name=t.name,
                description=t.description,
                rule=t.rule,
                cooldown_seconds=int(t.cooldown.total_seconds()),
                window_seconds=int(t.window.total_seconds()),
                on=sorted(t.on) if t.on is not None else None,
                per=t.per,
                swept=t.sweep_kinds is not None,
            )
            for t in self.triggers
        ]

    # --- as events arrive -----------------------------------------------------------------

    def react(self, rows: Iterable[dict[str, Any]]) -> int:
        """Evaluate the triggers for the people behind newly stored event rows; store the
        firings in a transaction of their own. Returns the number of firings.

        Only events younger than ``triggers_max_age_days`` (by the clock) wake triggers: a
        trigger is a reason to act now, and an import of last year's carts must not queue
        last year's cart reminders. Replaying history on purpose sets the limit to 0."""
        max_age = self.shop.settings.triggers_max_age_days
        oldest = self.shop.clock.now() - timedelta(days=max_age) if max_age else None
        arrivals = [
            (row["timestamp"], row["kind"], row.get("user_id"), row.get("anonymous_id"))
            for row in rows
            if row["kind"] not in SYSTEM_KINDS
            and (self._kinds is None or row["kind"] in self._kinds)
            and (oldest is None or row["timestamp"] >= oldest)
        ]
        if not arrivals:
            return 0
        return self._run(arrivals, self.triggers)[1]

    # --- the sweep ------------------------------------------------------------------------

    def sweep(self, *, at: datetime | None = None, progress: Progress | None = None) -> SweepResult:
        """Evaluate the time-based triggers at ``at`` (default: now) for everyone who might
        fire them; ``progress(done, total)`` is called as people are evaluated."""
        now = at or self.shop.clock.now()
        swept = [t for t in self.triggers if t.sweep_kinds is not None]
        if not swept:
            return SweepResult(at=now, people=0, fired=0)
        with self.shop.db.sessions() as session:
            pairs: set[tuple[str | None, str | None]] = set()
            for trigger in swept:
                pairs.update(
                    repository.sweep_candidates(
                        session, trigger.sweep_kinds or (), now - trigger.window, now
                    )
                )
        arrivals = [(now, SWEEP, user_id, anonymous_id) for user_id, anonymous_id in pairs]
        people, fired = self._run(arrivals, swept, progress=progress)
        return SweepResult(at=now, people=people, fired=fired)

    # --- reading firings ------------------------------------------------------------------

    def fired(self, identifier: str, *, limit: int = 50) -> FiredPage:
        """The customer's trigger firings with their evidence, newest first."""
        with self.shop.db.sessions() as session:
            customer = customers_repository.find_customer(session, identifier)
            if customer is None:
                raise NotFound(f"no customer {identifier!r}", detail={"id": identifier})
            ids = [customer.id, *customers_repository.merged_into(session, customer.id)]
            keys = [
                (i.kind, i.value)
                for i in customers_repository.identities_of_all(session, ids)
                if i.kind in ("user_id", "anonymous_id")
            ]
            rows = repository.firings(session, keys, limit=limit)
            return FiredPage(
                customer_id=customer.id,
                fired=[
                    FiredOut(
                        id=e.id,
                        trigger=str(e.properties.get("trigger")),
                        at=e.timestamp,
                        description=e.properties.get("description"),
                        evidence=e.properties.get("evidence") or {},
                    )
                    for e in rows
                ],
            )

    # --- the work -------------------------------------------------------------------------

    def _run(
        self,
        arrivals: Sequence[Arrival],
        triggers: Sequence[Trigger],
        *,
        progress: Progress | None = None,
    ) -> tuple[int, int]:
        """Evaluate ``triggers`` at the arriving moments, reading in a plain session; store
        the firings, if any, in a short transaction of their own (on SQLite the write lock
        is held only for that insert). Returns (people, firings)."""
        with self.shop.db.sessions() as session:
            people, rows = self._firings(session, arrivals, triggers, progress)
        if rows:
            with self.shop.db.transaction() as session:
                events_repository.insert_new(session, rows)
        return people, len(rows)

    def _firings(
        self,
        session: Session,
        arrivals: Sequence[Arrival],
        triggers: Sequence[Trigger],
        progress: Progress | None,
    ) -> tuple[int, list[dict[str, Any]]]:
        people = self._people(session, arrivals)
        if not people:
            return 0, []
        keys_of = repository.identities_of(session, people)
        start = min(a[0] for p in people.values() for a in p.arrivals)
        end = max(a[0] for p in people.values() for a in p.arrivals)
        widest = max(t.window for t in triggers)
        longest = max(t.cooldown for t in triggers)
        keys = sorted({k for cid in people for k in keys_of.get(cid, [])})
        owner = {k: cid for cid in people for k in keys_of.get(cid, [])}
        pinned = [t.kinds for t in triggers if t.kinds is not None]
        kinds = frozenset().union(*pinned) if len(pinned) == len(triggers) else None
        rows = repository.recent_events(session, keys, start - widest, end, kinds)
        rows.sort(key=lambda r: (r.timestamp, r.id))
        for row in rows:
            person = people.get(_owner(owner, row.user_id, row.anonymous_id) or "")
            if person is not None:
                person.events.append(_facts(row))
                person.ids.append(row.id)
        for user_id, anonymous_id, at, name in repository.fired_since(
            session, keys, start - longest
        ):
            person = people.get(_owner(owner, user_id, anonymous_id) or "")
            if person is not None:
                person.fired.setdefault(name, []).append(at)
        firings: list[tuple[_Person, Arrival, Firing, Trigger]] = []
        for done, person in enumerate(people.values(), start=1):
            firings.extend(self._evaluate(person, triggers))
            if progress is not None:
                progress(done, len(people))
        now = self.shop.clock.now()
        return len(people), [_row(p, a, f, t, now) for p, a, f, t in firings]

    def _people(self, session: Session, arrivals: Sequence[Arrival]) -> dict[str, _Person]:
        """Arriving moments grouped by the customer their identifiers resolve to."""
        wanted = [("user_id", a[2]) for a in arrivals if a[2]] + [
            ("anonymous_id", a[3]) for a in arrivals if a[3]
        ]
        owners = events_repository.customer_ids_for(session, wanted)
        people: dict[str, _Person] = {}
        for arrival in arrivals:
            customer_id = _owner(owners, arrival[2], arrival[3])
            if customer_id is not None:
                people.setdefault(customer_id, _Person(customer_id)).arrivals.append(arrival)
        return people

    def _evaluate(
        self, person: _Person, triggers: Sequence[Trigger]
    ) -> Iterable[tuple[_Person, Arrival, Firing, Trigger]]:
        stamps = [e.timestamp for e in person.events]
        by_kind: dict[str, list[datetime]] = {}
        for e in person.events:  # in time order: each list is sorted
            by_kind.setdefault(e.kind, []).append(e.timestamp)
        moments = sorted(set(person.arrivals), key=lambda a: a[0])
        for trigger in triggers:
            past = person.fired.setdefault(trigger.name, [])
            seen: set[datetime] = set()
            for arrival in moments:
                at, kind = arrival[0], arrival[1]
                if at in seen or not (kind == SWEEP or trigger.wants(kind)):
                    continue
                seen.add(at)
                if not cooldown_ok(past, at, trigger.cooldown):
                    continue
                if trigger.gate is not None and not _gate_open(trigger.gate, by_kind, at):
                    continue
                upto = bisect.bisect_right(stamps, at)
                lo = bisect.bisect_right(stamps, at - trigger.window)
                firing = evaluate(trigger, person.events[lo:upto], person.ids[lo:upto], at)
                if firing is not None:
                    past.append(at)
                    yield person, arrival, firing, trigger


def _gate_open(gate: Gate, by_kind: dict[str, list[datetime]], at: datetime) -> bool:
    """Enough events of the gate's kinds in ``(at - window, at]`` (two bisections a kind)?"""
    start, found = at - gate.window, 0
    for kind in gate.kinds:
        times = by_kind.get(kind)
        if times:
            found += bisect.bisect_right(times, at) - bisect.bisect_right(times, start)
    return found >= gate.n


def _owner(
    owners: dict[tuple[str, str], str], user_id: str | None, anonymous_id: str | None
) -> str | None:
    return (owners.get(("user_id", user_id)) if user_id else None) or (
        owners.get(("anonymous_id", anonymous_id)) if anonymous_id else None
    )


def _facts(row: Any) -> EventFacts:
    return EventFacts(
        timestamp=row.timestamp,
        kind=row.kind,
        category=row.category,
        brand=row.brand,
        price_tier=row.price_tier,
        sku=row.sku,
        source=row.source,
        medium=row.medium,
        campaign=row.campaign,
        traffic_channel=row.traffic_channel,
        device_type=row.device_type,
        country=row.country,
        value=row.value,
        query=row.query,
    )


def _row(
    person: _Person, arrival: Arrival, firing: Firing, trigger: Trigger, now: datetime
) -> dict[str, Any]:
    """The ``trigger_fired`` event: attributed to the identifiers of the arriving event."""
    at = firing.at
    key = f"{trigger.name}|{person.customer_id}|{at.isoformat()}"
    return {
        "message_id": "trg-" + hashlib.sha256(key.encode()).hexdigest()[:40],
        "type": "track",
        "event": "Trigger Fired",
        "kind": TRIGGER_FIRED,
        "user_id": arrival[2],
        "anonymous_id": arrival[3],
        "timestamp": at,
        "received_at": now,
        "properties": {
            "trigger": trigger.name,
            "description": trigger.description,
            "evidence": firing.evidence,
        },
        "traits": {},
        "context": {"library": {"name": "shopkeeper-triggers"}},
    }


def cooldown_ok(past: Sequence[datetime], at: datetime, cooldown: timedelta) -> bool:
    """No earlier or later firing of the trigger for the person lies within ``cooldown``."""
    return all(abs(at - t) >= cooldown for t in past)
