"""Segments as a product: stored rules, evaluation into membership intervals, members, reasons.

This is also the Python API (the personas domain saves clusters through it)::

    with shop.db.transaction() as session:
        shop.segments.create(session, "Toddler premium", rule, description="...", kind="persona")
        shop.segments.evaluate(session)              # every segment, one scan of the events

**Evaluation** moves the store to the analytics engine (:mod:`~shopkeeper.segments.
repository`), builds every customer's profile fields there (:func:`~shopkeeper.segments.facts.
profile_table`) and decides all rules in one query (:class:`~shopkeeper.segments.batch.
BatchEvaluator`). For each segment the members found are compared with the open memberships:
new ones get an interval (``entered_at`` = now) and a ``segment_entered`` event, those gone
have theirs closed (``exited_at``) and get a ``segment_exited`` event; a size snapshot is
written either way. Evaluating twice without a change in the data changes nothing but the
size history. Deleting a segment removes its memberships without exit events.

The service never commits: every method works in the caller's session.
"""

from __future__ import annotations

import builtins
import csv
import hashlib
import io
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session

from shopkeeper.analytics import engine
from shopkeeper.analytics.repository import score_of
from shopkeeper.customers import repository as customers_repository
from shopkeeper.customers.profile import EVENT_WINDOW
from shopkeeper.errors import Conflict, Invalid, NotFound
from shopkeeper.events import repository as events_repository
from shopkeeper.models import Segment, new_id
from shopkeeper.personas.repository import persona_of
from shopkeeper.segments import facts, repository
from shopkeeper.segments.batch import BatchEvaluator
from shopkeeper.segments.fields import DEFAULT_REGISTRY, FieldRegistry
from shopkeeper.segments.realtime import CompiledRule, EventFacts, ProfileFacts, compile_rule
from shopkeeper.segments.rules import (
    All,
    AnyOf,
    Compare,
    Condition,
    Not,
    describe,
    dump_rule,
    parse_json,
    parse_rule,
    parse_yaml,
)
from shopkeeper.segments.schemas import (
    CrossCell,
    CrossReport,
    CustomerSegment,
    CustomerSegments,
    Evaluation,
    EvaluationReport,
    Member,
    MemberPage,
    Priority,
    PriorityReport,
    SegmentDetail,
    SegmentOut,
    SizePoint,
)

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

__all__ = ["PRIORITY_FORMULA", "Decision", "SegmentService", "normalise_email", "slugify"]

#: ``(done, total, slug)`` after each segment is written.
Progress = Callable[[int, int, str], None]
PRIORITY_FORMULA = (
    "expected value = size x conversion rate x AOV (completed orders of current members in the "
    "window), or the members' summed CLV when customer_scores holds CLV; reach = share of "
    "members with e-mail or advertising consent; effort = 1 if reach >= 50%, 2 if >= 20%, "
    "else 3; score = value / effort"
)
MAX_CROSS = 3


def slugify(name: str) -> str:
    """``"Toddler premium (EU)"`` -> ``"toddler-premium-eu"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:100].strip("-") or "segment"


def normalise_email(email: str) -> str:
    """Trim and lower-case, as Google's and Meta's customer-match uploads ask before hashing.

    Gmail dots are kept: Google asks to drop them for gmail.com, Meta does not, and one file
    should hash the same for both; the address the customer gave is what they use elsewhere.
    """
    return email.strip().lower()


def sha256_email(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


@dataclass(frozen=True)
class Decision:
    """Members of each segment at ``at`` (segment id -> customer ids), not yet recorded."""

    at: datetime
    customers: int
    members: dict[str, set[str]]
    versions: dict[str, int]
    seconds: float


class SegmentService:
    """Stored segments of one shop. Never commits."""

    def __init__(self, shop: Shopkeeper, registry: FieldRegistry = DEFAULT_REGISTRY) -> None:
        self.shop = shop
        self.registry = registry
        self._compiled: dict[tuple[str, int], CompiledRule] = {}

    # --- definitions ---------------------------------------------------------------------------

    def parse(self, rule: Any) -> Condition:
        """A rule from a dict, a model, or JSON/YAML text; :class:`RuleError` (422) names the
        offending part's path."""
        if isinstance(rule, str | bytes):
            text = rule.strip() if isinstance(rule, str) else rule.strip().decode()
            if text.startswith(("{", "[")):
                return parse_json(text, self.registry)
            return parse_yaml(text, self.registry)
        return parse_rule(rule, self.registry)

    def create(
        self,
        session: Session,
        name: str,
        rule: Any,
        *,
        description: str = "",
        kind: str = "rule",
        slug: str | None = None,
    ) -> Segment:
        """Validate and store a segment (version 1). Members appear at the next evaluation.

        Raises:
            RuleError: the rule is invalid (422; ``detail["errors"]`` lists every path).
            Conflict: the slug is taken.
        """
        parsed = self.parse(rule)
        if kind not in ("rule", "persona", "builtin"):
            raise Invalid("kind must be rule, persona or builtin", detail={"field": "kind"})
        if not name.strip():
            raise Invalid("the name is empty", detail={"field": "name"})
        slug = slug or slugify(name)
        if repository.slug_taken(session, slug):
            raise Conflict(f"a segment {slug!r} exists already", detail={"field": "slug"})
        now = self.shop.clock.now()
        segment = Segment(
            id=_new_id(),
            slug=slug,
            name=name.strip(),
            description=description,
            kind=kind,
            rule=dump_rule(parsed),
            version=1,
            created_at=now,
            updated_at=now,
            evaluated_at=None,
        )
        session.add(segment)
        session.flush()
        return segment

    def install_builtin(self, session: Session) -> int:
        """Store the built-in traffic segments (tenure, channel, device, ...) that are missing;
        idempotent, and a shop's edits to an installed one are kept. Returns how many were
        added."""
        from shopkeeper.segments.builtin import BUILTIN_SEGMENTS

        added = 0
        for builtin in BUILTIN_SEGMENTS:
            if not repository.slug_taken(session, builtin.slug):
                self.create(
                    session,
                    builtin.name,
                    builtin.rule,
                    description=builtin.description,
                    kind="builtin",
                    slug=builtin.slug,
                )
                added += 1
        return added

    def get(self, session: Session, key: str) -> Segment:
        """A segment by id or slug, or :class:`NotFound`."""
        segment = repository.find(session, key)
        if segment is None:
            raise NotFound(f"no segment {key!r}", detail={"id": key})
        return segment

    def list(self, session: Session) -> list[SegmentOut]:
        segments = repository.all_segments(session)
        sizes = repository.sizes(session, [s.id for s in segments])
        return [self._out(s, sizes.get(s.id, 0)) for s in segments]

    def show(self, session: Session, key: str, *, history: int = 100) -> SegmentDetail:
        """The definition, current size and the size after each of the last ``history``
        evaluations."""
        segment = self.get(session, key)
        size = repository.sizes(session, [segment.id]).get(segment.id, 0)
        points = [
            SizePoint.model_validate(p, from_attributes=True)
            for p in repository.size_history(session, segment.id, history)
        ]
        return SegmentDetail(**self._out(segment, size).model_dump(), history=points)

    def update(
        self,
        session: Session,
        key: str,
        *,
        name: str | None = None,
        description: str | None = None,
        rule: Any = None,
    ) -> Segment:
        """Change a segment; a changed rule is a new version (members follow at the next
        evaluation, which records entries and exits against the new rule)."""
        segment = self.get(session, key)
        if rule is not None:
            dumped = dump_rule(self.parse(rule))
            if dumped != segment.rule:
                segment.rule = dumped
                segment.version += 1
        if name is not None:
            if not name.strip():
                raise Invalid("the name is empty", detail={"field": "name"})
            segment.name = name.strip()
        if description is not None:
            segment.description = description
        segment.updated_at = self.shop.clock.now()
        session.flush()
        return segment

    def delete(self, session: Session, key: str) -> None:
        """Remove a segment with its memberships and size history."""
        repository.delete_segment(session, self.get(session, key))

    def out(self, session: Session, segment: Segment) -> SegmentOut:
        size = repository.sizes(session, [segment.id]).get(segment.id, 0)
        return self._out(segment, size)

    def _out(self, segment: Segment, size: int) -> SegmentOut:
        return SegmentOut(
            id=segment.id,
            slug=segment.slug,
            name=segment.name,
            description=segment.description,
            kind=segment.kind,
            rule=segment.rule,
            rule_text=describe(parse_rule(segment.rule, self.registry)),
            version=segment.version,
            created_at=segment.created_at,
            updated_at=segment.updated_at,
            evaluated_at=segment.evaluated_at,
            size=size if segment.evaluated_at is not None else None,
        )

    # --- evaluation ----------------------------------------------------------------------------

    def evaluate(
        self, session: Session, key: str | None = None, *, on_progress: Progress | None = None
    ) -> EvaluationReport:
        """Evaluate one segment (``key``) or all, and record entries, exits and sizes, in one
        session. Long runs on SQLite should rather :meth:`decide` in a read session and
        :meth:`record` in a short write transaction, as the CLI and API do, so ingest is not
        held behind the engine's work."""
        return self.record(session, self.decide(session, key), on_progress=on_progress)

    def decide(self, session: Session, key: str | None = None) -> Decision:
        """Who is in each segment now (reads only): one query on the analytics engine."""
        started = time.perf_counter()
        segments = [self.get(session, key)] if key else repository.all_segments(session)
        now = self.shop.clock.now()
        members, customers = self._members(session, segments, now)
        return Decision(
            at=now,
            customers=customers,
            members=members,
            versions={s.id: s.version for s in segments},
            seconds=time.perf_counter() - started,
        )

    def record(
        self, session: Session, decision: Decision, *, on_progress: Progress | None = None
    ) -> EvaluationReport:
        """Write a :class:`Decision`: intervals, events and size snapshots. A segment deleted
        or given a new rule since it was decided is skipped (the next evaluation covers it)."""
        started = time.perf_counter()
        done: list[Evaluation] = []
        total = len(decision.versions)
        for i, (segment_id, version) in enumerate(decision.versions.items()):
            segment = repository.find(session, segment_id)
            if segment is not None and segment.version == version:
                done.append(
                    self._apply(session, segment, decision.members[segment_id], decision.at)
                )
            if on_progress is not None:
                on_progress(i + 1, total, segment.slug if segment else segment_id)
        session.flush()
        return EvaluationReport(
            evaluated_at=decision.at,
            customers=decision.customers,
            seconds=round(decision.seconds + time.perf_counter() - started, 3),
            segments=done,
        )

    def _members(
        self, session: Session, segments: Sequence[Segment], now: datetime
    ) -> tuple[dict[str, set[str]], int]:
        """Every segment's members now, from one query on the analytics engine."""
        if not segments:
            return {}, 0
        rules = [parse_rule(s.rule, self.registry) for s in segments]
        con = engine.connect(self.shop.settings)
        try:
            fields = {name for rule in rules for name in _profile_fields(rule)}
            people = self._people(session, con, now, fields)
            events = con.table("events")
            events = events.filter(events.customer_id.notnull())
            table = BatchEvaluator(people, events, self.registry).membership(rules, now)
            result = table.to_pyarrow()
        finally:
            con.disconnect()
        ids = result.column("customer_id")
        found = {
            segment.id: set(pc.filter(ids, result.column(f"rule_{i}")).to_pylist())
            for i, segment in enumerate(segments)
        }
        return found, result.num_rows

    def _apply(
        self, session: Session, segment: Segment, now_in: set[str], at: datetime
    ) -> Evaluation:
        was_in = repository.open_members(session, segment.id)
        entered = sorted(now_in - was_in)
        exited = sorted(was_in - now_in)
        repository.exit_(session, segment.id, exited, at)
        repository.enter(session, segment.id, entered, at)
        self._events(session, segment, entered, exited, at)
        repository.add_size(session, segment, at, len(now_in), len(entered), len(exited))
        segment.evaluated_at = at
        return Evaluation(
            id=segment.id,
            slug=segment.slug,
            version=segment.version,
            size=len(now_in),
            entered=len(entered),
            exited=len(exited),
        )

    def _events(
        self,
        session: Session,
        segment: Segment,
        entered: Sequence[str],
        exited: Sequence[str],
        at: datetime,
    ) -> None:
        """``segment_entered`` / ``segment_exited`` events, sent under the customer's userId
        (else anonymousId, else the customer id) so triggers and erasure find them."""
        changed = [*entered, *exited]
        if not changed:
            return
        owners = repository.event_identities(session, changed)
        rows = []
        for kind, ids in (("segment_entered", entered), ("segment_exited", exited)):
            for cid in ids:
                user_id, anonymous_id = owners.get(cid, (cid, None))
                key = f"{segment.id}|{cid}|{kind}|{at.isoformat()}"
                rows.append(
                    {
                        "message_id": "sk-seg-" + hashlib.sha256(key.encode()).hexdigest()[:40],
                        "type": "track",
                        "event": "Segment Entered"
                        if kind == "segment_entered"
                        else "Segment Exited",
                        "kind": kind,
                        "user_id": user_id,
                        "anonymous_id": anonymous_id,
                        "timestamp": at,
                        "received_at": at,
                        "properties": {
                            "segment_id": segment.id,
                            "segment_slug": segment.slug,
                            "segment_name": segment.name,
                            "segment_version": segment.version,
                            "customer_id": cid,
                        },
                        "traits": {},
                        "context": {"library": {"name": "shopkeeper-segments"}},
                    }
                )
        for start in range(0, len(rows), 5000):
            events_repository.insert_new(session, rows[start : start + 5000])

    # --- members and export --------------------------------------------------------------------

    def members(
        self, session: Session, key: str, *, limit: int = 100, after: str | None = None
    ) -> MemberPage:
        """One page of current members in customer-id order."""
        if not 1 <= limit <= 10_000:
            raise Invalid("limit must be between 1 and 10000", detail={"field": "limit"})
        segment = self.get(session, key)
        rows = repository.members_page(session, segment.id, limit + 1, after)
        page = [Member(customer_id=cid, entered_at=at) for cid, at in rows[:limit]]
        return MemberPage(
            segment_id=segment.id,
            members=page,
            next_after=page[-1].customer_id if len(rows) > limit else None,
        )

    def export_csv(self, session: Session, key: str, *, hashed: bool = True) -> Iterator[str]:
        """Current members as CSV lines.

        ``hashed`` (the audience file): one ``Email`` column of SHA-256 hex digests of the
        normalised e-mail (:func:`normalise_email`), the format Google Ads and Meta
        customer-match uploads take, only for members whose **advertising** consent is in
        force and who have an e-mail; each address once. Otherwise a ``customer_id`` column of
        every current member, for use inside the shop.
        """
        segment = self.get(session, key)
        if not hashed:
            yield "customer_id\r\n"
            after: str | None = None
            while True:
                rows = repository.members_page(session, segment.id, 10_000, after)
                yield from (_csv_line([cid]) for cid, _ in rows)
                if len(rows) < 10_000:
                    return
                after = rows[-1][0]
        emails = list(repository.member_emails(session, segment.id))
        consent = repository.consent_in_force(
            session, ("advertising",), [cid for cid, email in emails if email]
        )
        seen: set[str] = set()
        yield "Email\r\n"
        for cid, email in emails:
            if not email or "@" not in email or not consent.get((cid, "advertising"), False):
                continue
            digest = sha256_email(email)
            if digest not in seen:
                seen.add(digest)
                yield _csv_line([digest])

    # --- real time -----------------------------------------------------------------------------

    def segments_of(self, session: Session, identifier: str) -> CustomerSegments:
        """Every stored segment the customer matches now, evaluated in real time from their
        profile and recent events, with the rule parts that made it true."""
        now = self.shop.clock.now()
        customer = self.shop.customers.get(session, identifier)
        profile_facts, events = self.facts_of(session, customer.id)
        since = {
            m.segment_id: m.entered_at
            for m in repository.memberships_of(session, [customer.id])
            if m.exited_at is None
        }
        found = []
        for segment in repository.all_segments(session):
            match = self._compile(segment).evaluate(profile_facts, events, now)
            if match.matched:
                found.append(
                    CustomerSegment(
                        id=segment.id,
                        slug=segment.slug,
                        name=segment.name,
                        kind=segment.kind,
                        reasons=match.reasons,
                        member_since=since.get(segment.id),
                    )
                )
        return CustomerSegments(customer_id=customer.id, evaluated_at=now, segments=found)

    def facts_of(
        self, session: Session, identifier: str
    ) -> tuple[ProfileFacts, builtins.list[EventFacts]]:
        """One customer's profile fields and recent shop events, as real time sees them."""
        now = self.shop.clock.now()
        customer = self.shop.customers.get(session, identifier)
        profile = self.shop.customers.profile(customer.id, session=session)
        identities = customers_repository.identities_of_all(
            session, [customer.id, *profile.merged_from]
        )
        rows = repository.customer_events(
            session,
            [i.value for i in identities if i.kind == "user_id"],
            [i.value for i in identities if i.kind == "anonymous_id"],
            EVENT_WINDOW,
        )
        events = [EventFacts(**row) for row in rows]
        score = score_of(session, customer.id)
        persona = persona_of(session, customer.id)
        scores = (
            facts.Scores(
                rfm_r=score.rfm_r if score else None,
                rfm_f=score.rfm_f if score else None,
                rfm_m=score.rfm_m if score else None,
                rfm_segment=score.rfm_segment if score else None,
                clv=score.clv if score else None,
                p_alive=score.p_alive if score else None,
                persona=persona,
            )
            if score is not None or persona is not None
            else None
        )
        return facts.profile_facts(profile, scores, events, now), events

    def batch_facts(self, session: Session, fields: Sequence[str] = ()) -> pa.Table:
        """Every live customer's profile fields as batch evaluation sees them (``affinity.*``
        columns only for the names in ``fields``)."""
        con = engine.connect(self.shop.settings)
        try:
            return self._people(session, con, self.shop.clock.now(), fields).to_pyarrow()
        finally:
            con.disconnect()

    def _people(
        self, session: Session, con: BaseBackend, now: datetime, fields: Iterable[str]
    ) -> ir.Table:
        repository.load(session, con)
        inputs = facts.Inputs(
            people=con.table("people"),
            orders=con.table("orders"),
            lines=con.table("lines"),
            events=con.table("events"),
            scores=con.table("scores"),
        )
        return facts.profile_table(inputs, now, fields)

    def _compile(self, segment: Segment) -> CompiledRule:
        key = (segment.id, segment.version)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = compile_rule(parse_rule(segment.rule, self.registry))
            self._compiled[key] = compiled
        return compiled

    # --- combined segments and prioritisation --------------------------------------------------

    def cross(self, session: Session, keys: Sequence[str]) -> CrossReport:
        """Customers in each combination of 2 or 3 stored segments' current memberships
        (in A and B, A only, B only, neither...); empty cells are left out."""
        if not 2 <= len(keys) <= MAX_CROSS or len(set(keys)) != len(keys):
            raise Invalid(
                f"cross 2 to {MAX_CROSS} different segments", detail={"field": "segments"}
            )
        segments = [self.get(session, key) for key in keys]
        position = {s.id: i for i, s in enumerate(segments)}
        flags: dict[str, int] = {}
        for sid, cid in repository.open_memberships(session, list(position)):
            flags[cid] = flags.get(cid, 0) | (1 << position[sid])
        total = repository.live_customers(session)
        counts = Counter(flags.values())
        counts[0] = max(total - len(flags), 0)
        cells = [
            CrossCell(
                inside=[s.slug for i, s in enumerate(segments) if mask & (1 << i)],
                customers=n,
                share=round(n / total, 6) if total else 0.0,
            )
            for mask, n in sorted(counts.items(), key=lambda kv: (-bin(kv[0]).count("1"), kv[0]))
            if n
        ]
        return CrossReport(segments=[s.slug for s in segments], customers=total, cells=cells)

    def priorities(self, session: Session, *, window_days: int = 90) -> PriorityReport:
        """Stored segments ranked by value per unit of effort (:data:`PRIORITY_FORMULA`)."""
        if not 1 <= window_days <= 3650:
            raise Invalid("window_days must be 1 to 3650", detail={"field": "window_days"})
        since = self.shop.clock.now() - timedelta(days=window_days)
        segments = repository.all_segments(session)
        value = repository.member_value(session, since)
        members: dict[str, set[str]] = {}
        for sid, cid in repository.open_memberships(session, [s.id for s in segments]):
            members.setdefault(sid, set()).add(cid)
        consent = repository.consent_in_force(session, ("email", "advertising"))
        basis = "clv" if any(v.get("with_clv", 0) > 0 for v in value.values()) else "orders"
        ranked = []
        for segment in segments:
            v = value.get(segment.id, {})
            size = int(v.get("size", 0))
            conversion = v.get("buyers", 0.0) / size if size else 0.0
            aov = v["revenue"] / v["orders"] if v.get("orders") else 0.0
            expected = size * conversion * aov
            clv = v.get("clv") if v.get("with_clv") else None
            worth = (clv or 0.0) if basis == "clv" else expected
            inside = members.get(segment.id, set())
            reachable = sum(
                1
                for cid in inside
                if consent.get((cid, "email")) or consent.get((cid, "advertising"))
            )
            reach = reachable / len(inside) if inside else 0.0
            effort = 1 if reach >= 0.5 else 2 if reach >= 0.2 else 3
            ranked.append(
                Priority(
                    rank=0,
                    id=segment.id,
                    slug=segment.slug,
                    name=segment.name,
                    size=size,
                    conversion_rate=round(conversion, 6),
                    aov=round(aov, 2),
                    expected_value=round(expected, 2),
                    clv_sum=round(clv, 2) if clv is not None else None,
                    value=round(worth, 2),
                    reach=round(reach, 6),
                    effort=effort,
                    score=round(worth / effort, 2),
                )
            )
        ranked.sort(key=lambda p: (-p.score, -p.value, p.slug))
        return PriorityReport(
            basis=basis,
            window_days=window_days,
            formula=PRIORITY_FORMULA,
            segments=[p.model_copy(update={"rank": i + 1}) for i, p in enumerate(ranked)],
        )


def _profile_fields(rule: Condition) -> Iterator[str]:
    """Profile field names a rule reads (its event filters excluded)."""
    stack: list[Condition] = [rule]
    while stack:
        node = stack.pop()
        if isinstance(node, All):
            stack.extend(node.all)
        elif isinstance(node, AnyOf):
            stack.extend(node.any)
        elif isinstance(node, Not):
            stack.append(node.not_)
        elif isinstance(node, Compare):
            yield node.field


def _csv_line(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def _new_id() -> str:
    return new_id("seg")
