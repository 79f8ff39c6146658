"""One call of :meth:`IdentityGraph.observe`: a batch of observations worked out in memory.

Why a class of its own: ingest hands over thousands of observations per transaction, so the
batch loads every profile it can touch up front (a few ``IN`` queries), keeps them as
:class:`_Profile` objects, and adds new rows to the session for one batched flush at the end.

A profile born earlier in the same batch and not yet flushed is *absorbed* when a later
observation links it to another profile: its identifiers simply join that profile, as if they
had arrived together, and no merge row is written (there was never a stored profile to restore).
Two profiles that already existed are merged for real, with a :class:`Merge` row and snapshot.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shopkeeper.identities import repository as repo
from shopkeeper.identities import rules
from shopkeeper.identities.rules import ANONYMOUS_ID, EMAIL, USER_ID, Key
from shopkeeper.models import Consent, Customer, Identity, new_id
from shopkeeper.ops.logging import log

if TYPE_CHECKING:
    from shopkeeper.identities.service import IdentityGraph, Observation

#: A new row (identity or consent) as column values, for one bulk insert.
Row = dict[str, Any]

#: Consent rows stored before the batch sort by id; rows added by the batch come after them.
ConsentOrder = tuple[int, int]


@dataclass(slots=True)
class Fresh:
    """A customer born in this batch, as plain values until it is stored: building an ORM
    instance cost more than inserting its row (a batch of first-time visitors makes thousands).
    The fields are the ``customers`` columns."""

    id: str
    created_at: datetime
    updated_at: datetime
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    email: str | None = None
    traits: dict[str, Any] = field(default_factory=dict)
    merged_into_id: str | None = None

    def row(self) -> Row:
        return {name: getattr(self, name) for name in self.__slots__}

    def orm(self) -> Customer:
        return Customer(**self.row())


@dataclass(eq=False)
class _Profile:
    #: A :class:`Fresh` customer while ``stored`` is False, the ORM row once it is stored.
    customer: Customer | Fresh
    keys: set[Key] = field(default_factory=set)
    #: Identities this batch created for the profile (loaded ones are only in ``keys``).
    identities: list[Row] = field(default_factory=list)
    consent: dict[str, tuple[ConsentOrder, bool]] = field(default_factory=dict)
    new_consents: list[Row] = field(default_factory=list)
    #: False while the customer row exists only in this batch's memory.
    stored: bool = True
    #: First and last time seen in this batch, written to the row once at the end (writing
    #: it per event would make every merge's flush rewrite every profile touched so far).
    seen: tuple[datetime, datetime] | None = None

    def facts(self) -> rules.ProfileFacts:
        c = self.customer
        return rules.ProfileFacts(c.id, frozenset(self.keys), c.first_seen_at, c.created_at)


@dataclass(frozen=True, slots=True)
class _Clean:
    """An observation with its identifiers checked against the blocked values."""

    obs: Observation
    timestamp: datetime
    user_id: str | None
    anonymous_id: str | None
    previous_id: str | None
    email: str | None


class ObservationBatch:
    def __init__(self, graph: IdentityGraph, session: Session) -> None:
        self.graph = graph
        self.session = session
        self.now = graph.clock.now()
        self.owner: dict[Key, _Profile] = {}
        self.email_column: dict[str, _Profile] = {}
        self.sequence = itertools.count()
        self.new_customers: dict[str, _Profile] = {}
        #: New identity and consent rows as plain dicts (ORM objects cost more than the insert).
        self.new_rows: list[tuple[type[Identity] | type[Consent], Row]] = []
        self.touched: list[_Profile] = []

    def run(self, observations: Sequence[Observation]) -> None:
        kept, seen = _distinct(observations)
        cleaned = [self._clean(obs) for obs in kept]
        self._load(cleaned)
        for item in cleaned:
            if item.user_id or item.anonymous_id:
                self._apply(item)
        blocked = self.graph.blocked
        for (user_id, anonymous_id), (earliest, latest) in seen.items():
            user_id = rules.clean_identifier(user_id, blocked)
            anonymous_id = rules.clean_identifier(anonymous_id, blocked)
            key = (USER_ID, user_id) if user_id else (ANONYMOUS_ID, anonymous_id or "")
            profile = self.owner.get(key)
            if profile is not None:
                self._touch(profile, earliest)
                self._touch(profile, latest)
        for profile in self.touched:
            self._settle(profile)
        self._flush(final=True)

    def _flush(self, *, final: bool = False) -> None:
        """Insert what the batch created, customers first: the ORM does not know that identities
        and consents depend on customers (there are no relationships), so order it here.

        Mid-batch (before a merge) new customers go through the ORM, because the merge then
        changes their rows. At the end nothing changes them any more, so they go in with one
        bulk insert: creating thousands of customers through the unit of work was most of the
        cost of a batch of first-time visitors.
        """
        if self.new_customers and final:
            rows = [_fresh(p).row() for p in self.new_customers.values()]
            table = Customer.__table__
            self.session.connection().execute(insert(table), rows)  # type: ignore[arg-type]
            self.new_customers.clear()
        elif self.new_customers:
            for profile in self.new_customers.values():
                profile.customer = _fresh(profile).orm()
                profile.stored = True
            self.session.add_all(_stored(p) for p in self.new_customers.values())
            self.session.flush()
            self.new_customers.clear()
        # Core-style bulk inserts: the ORM would insert rows with autoincrement ids one by one
        # (to read each id back), and nothing here needs the new ids.
        for model in (Identity, Consent):
            rows = [row for kind, row in self.new_rows if kind is model]
            if rows:
                table = model.__table__
                self.session.connection().execute(insert(table), rows)  # type: ignore[arg-type]
        self.new_rows.clear()

    # -- loading --------------------------------------------------------------------------

    def _clean(self, obs: Observation) -> _Clean:
        blocked = self.graph.blocked
        timestamp = obs.timestamp if obs.timestamp.tzinfo else obs.timestamp.replace(tzinfo=UTC)
        return _Clean(
            obs=obs,
            timestamp=timestamp,
            user_id=rules.clean_identifier(obs.user_id, blocked),
            anonymous_id=rules.clean_identifier(obs.anonymous_id, blocked),
            previous_id=rules.clean_identifier(obs.previous_id, blocked),
            email=rules.normalise_email(obs.email, blocked),
        )

    def _load(self, cleaned: Sequence[_Clean]) -> None:
        keys: set[Key] = set()
        emails: set[str] = set()
        for item in cleaned:
            if item.user_id:
                keys.add((USER_ID, item.user_id))
            if item.anonymous_id:
                keys.add((ANONYMOUS_ID, item.anonymous_id))
            if item.previous_id:
                keys.update({(USER_ID, item.previous_id), (ANONYMOUS_ID, item.previous_id)})
            if item.email:
                keys.add((EMAIL, item.email))
                emails.add(item.email)
        if not keys:
            return
        customer_ids = {i.customer_id for i in repo.identities_by_keys(self.session, keys)}
        by_email = repo.live_customer_ids_by_email(self.session, emails) if emails else {}
        customer_ids |= set(by_email.values())
        if not customer_ids:
            return
        profiles = {c.id: _Profile(c) for c in repo.customers_by_ids(self.session, customer_ids)}
        for row in repo.identities_of_customers(self.session, customer_ids):
            kind, value, customer_id = row.kind, row.value, row.customer_id
            profile = profiles.get(customer_id)
            if profile is not None:
                profile.keys.add((kind, value))
                self.owner[(kind, value)] = profile
        if any(item.obs.consent for item in cleaned):
            for row in repo.consents_of_customers(self.session, customer_ids):
                profiles[row.customer_id].consent[row.purpose] = ((0, row.id), row.granted)
        for email, customer_id in by_email.items():
            self.email_column[email] = profiles[customer_id]

    def _hold(self, profile: _Profile, identity: Row) -> None:
        key = (identity["kind"], identity["value"])
        profile.keys.add(key)
        profile.identities.append(identity)
        self.owner[key] = profile

    # -- one observation ------------------------------------------------------------------

    def _apply(self, item: _Clean) -> None:
        ts = item.timestamp
        primary: Key
        if item.user_id:
            primary = (USER_ID, item.user_id)
            if primary not in self.owner and item.anonymous_id:
                # A visitor identifying for the first time: the userId joins the profile their
                # browsing built (as Segment does), rather than a new profile merged into it.
                browsing = self.owner.get((ANONYMOUS_ID, item.anonymous_id))
                if browsing is not None and not self.graph.refusal(browsing.keys, {primary}):
                    self._add_identity(browsing, primary, ts)
            profile = self._ensure(primary, ts)
            if item.anonymous_id:
                reason = f"identify: anonymousId {item.anonymous_id} joined userId {item.user_id}"
                self._link(profile, (ANONYMOUS_ID, item.anonymous_id), ts, reason)
            if item.previous_id and item.previous_id != item.user_id:
                previous = self.owner.get((USER_ID, item.previous_id))
                previous_key = (USER_ID, item.previous_id)
                if previous is None:
                    previous_key = (ANONYMOUS_ID, item.previous_id)
                self._link(self.owner[primary], previous_key, ts, "alias")
        else:
            assert item.anonymous_id
            primary = (ANONYMOUS_ID, item.anonymous_id)
            self._ensure(primary, ts)
        if item.email:
            self._email(primary, item.email, ts)
        profile = self.owner[primary]
        self._touch(profile, ts)
        if item.obs.traits:
            profile.customer.traits = {**(profile.customer.traits or {}), **item.obs.traits}
        if item.obs.consent:
            self._consent(profile, item.obs.consent, item.obs.reason, ts)

    def _ensure(self, key: Key, ts: datetime) -> _Profile:
        """The profile holding ``key``, or a new one born at ``ts``."""
        profile = self.owner.get(key)
        if profile is not None:
            return profile
        customer = Fresh(
            id=new_id("cus"), created_at=ts, updated_at=self.now, first_seen_at=ts, last_seen_at=ts
        )
        profile = _Profile(customer, stored=False)
        self.new_customers[customer.id] = profile
        self._add_identity(profile, key, ts)
        return profile

    def _add_identity(self, profile: _Profile, key: Key, ts: datetime) -> None:
        identity: Row = {
            "customer_id": profile.customer.id,
            "kind": key[0],
            "value": key[1],
            "created_at": ts,
            "source": "event",
        }
        self.new_rows.append((Identity, identity))
        self._hold(profile, identity)

    def _link(self, profile: _Profile, key: Key, ts: datetime, reason: str) -> None:
        """Join identifier ``key`` to ``profile``: attach it if it has no profile yet (or give
        it its own when a safeguard refuses), merge the two profiles if it has one."""
        other = self.owner.get(key)
        if other is None:
            refused = self.graph.refusal(profile.keys, {key})
            if refused:
                self._refused(profile, None, reason, refused)
                self._ensure(key, ts)
            else:
                self._add_identity(profile, key, ts)
        elif other is not profile:
            self._join(profile, other, reason)

    def _join(self, a: _Profile, b: _Profile, reason: str) -> None:
        refused = self.graph.refusal(a.keys, b.keys)
        if refused:
            self._refused(a, b, reason, refused)
            return
        if a.stored != b.stored:
            winner, loser = (a, b) if a.stored else (b, a)
        else:
            winner_facts, _, _ = rules.choose_winner(a.facts(), b.facts())
            winner, loser = (a, b) if winner_facts.customer_id == a.customer.id else (b, a)
        if not loser.stored:
            self._absorb(winner, loser)
            if loser.seen:
                self._touch(winner, loser.seen[0])
                self._touch(winner, loser.seen[1])
                loser.seen = None
        else:
            self._settle(a)
            self._settle(b)
            self._flush()
            self.graph.execute_merge(self.session, _stored(winner), _stored(loser), reason)
        for key in loser.keys:
            self.owner[key] = winner
        winner.keys |= loser.keys
        winner.identities += loser.identities
        winner.new_consents += loser.new_consents
        for purpose, (order, granted) in loser.consent.items():
            if purpose not in winner.consent or winner.consent[purpose][0] < order:
                winner.consent[purpose] = (order, granted)
        for email, holder in list(self.email_column.items()):
            if holder is loser:
                self.email_column[email] = winner

    def _absorb(self, winner: _Profile, loser: _Profile) -> None:
        """Fold a profile born in this batch, never flushed, into ``winner`` (no merge row)."""
        for identity in loser.identities:
            identity["customer_id"] = winner.customer.id
        for consent in loser.new_consents:
            consent["customer_id"] = winner.customer.id
        w, lo = winner.customer, loser.customer
        w.traits, _ = rules.merge_traits(w.traits or {}, lo.traits or {})
        w.email = w.email or lo.email
        w.first_seen_at = min(filter(None, (w.first_seen_at, lo.first_seen_at)), default=None)
        w.last_seen_at = max(filter(None, (w.last_seen_at, lo.last_seen_at)), default=None)
        del self.new_customers[lo.id]

    def _refused(self, a: _Profile, b: _Profile | None, reason: str, refused: str) -> None:
        log.warning(
            "identity.link_refused",
            customer=a.customer.id,
            other=b.customer.id if b else None,
            link=reason.split(":", 1)[0],
            refused=refused,
        )

    def _email(self, primary: Key, email: str, ts: datetime) -> None:
        """Record the e-mail on the profile of ``primary``; with ``merge_on_email``, a profile
        already holding it is merged (the e-mail column alone is set when merging is off)."""
        profile = self.owner[primary]
        key = (EMAIL, email)
        holder = self.owner.get(key) or self.email_column.get(email)
        if holder is not None and holder is not profile and self.graph.settings.merge_on_email:
            self._join(profile, holder, f"email: {email} belongs to both profiles")
            profile = self.owner[primary]
        if key not in self.owner:
            refused = self.graph.refusal(profile.keys, {key})
            if refused:
                self._refused(profile, None, "email", refused)
            else:
                self._add_identity(profile, key, ts)
        profile.customer.email = email
        self.email_column.setdefault(email, profile)

    def _touch(self, profile: _Profile, ts: datetime) -> None:
        seen = profile.seen
        if seen is None:
            profile.seen = (ts, ts)
            self.touched.append(profile)
        elif ts < seen[0] or ts > seen[1]:
            profile.seen = (min(seen[0], ts), max(seen[1], ts))

    def _settle(self, profile: _Profile) -> None:
        """Write the batch's first/last seen of ``profile`` to its customer row."""
        if profile.seen is None:
            return
        first, last = profile.seen
        profile.seen = None
        c = profile.customer
        if c.first_seen_at is None or first < c.first_seen_at:
            c.first_seen_at = first
        if c.last_seen_at is None or last > c.last_seen_at:
            c.last_seen_at = last
        c.updated_at = self.now

    def _consent(self, profile: _Profile, consent: Any, source: str, ts: datetime) -> None:
        """Append a history row only for purposes whose value changes."""
        for purpose, granted in consent.items():
            if not isinstance(purpose, str) or not isinstance(granted, bool) or len(purpose) > 32:
                continue
            current = profile.consent.get(purpose)
            if current is not None and current[1] == granted:
                continue
            row: Row = {
                "customer_id": profile.customer.id,
                "purpose": purpose,
                "granted": granted,
                "source": source[:32],
                "recorded_at": ts,
            }
            self.new_rows.append((Consent, row))
            profile.new_consents.append(row)
            profile.consent[purpose] = ((1, next(self.sequence)), granted)


def _distinct(
    observations: Sequence[Observation],
) -> tuple[list[Observation], dict[tuple[str | None, str | None], tuple[datetime, datetime]]]:
    """Drop observations that repeat what the same identifiers said just before.

    Most events of a session carry the same ids, e-mail and consent; only the first of a run
    can link, merge or change consent, so the rest are dropped and only their timestamps are
    kept (first/last seen per identifier pair). Observations with traits or an alias are
    always kept, and a change back (consent granted, withdrawn, granted again) is a new run.
    """
    kept: list[Observation] = []
    last: dict[tuple[str | None, str | None], object] = {}
    seen: dict[tuple[str | None, str | None], tuple[datetime, datetime]] = {}
    for obs in observations:
        ids = (obs.user_id, obs.anonymous_id)
        ts = obs.timestamp if obs.timestamp.tzinfo else obs.timestamp.replace(tzinfo=UTC)
        span = seen.get(ids)
        seen[ids] = (min(span[0], ts), max(span[1], ts)) if span else (ts, ts)
        signature = (obs.email, tuple(sorted(obs.consent.items())) if obs.consent else None)
        if obs.traits is None and obs.previous_id is None and last.get(ids) == signature:
            continue
        last[ids] = signature
        kept.append(obs)
    return kept, seen


def _fresh(profile: _Profile) -> Fresh:
    assert isinstance(profile.customer, Fresh), "a stored profile has an ORM customer"
    return profile.customer


def _stored(profile: _Profile) -> Customer:
    assert isinstance(profile.customer, Customer), "a new profile is stored by _flush first"
    return profile.customer
