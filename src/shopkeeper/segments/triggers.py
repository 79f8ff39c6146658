"""Triggers: named behaviour conditions over a person's recent events, fired with their evidence.

A trigger is a rule of the segment rule language (:mod:`shopkeeper.segments.rules`) made of
aggregates over event fields — "4 different products viewed in 14 days, 2 of them premium" —
plus what the rule language has no words for: *when* to look (``on``: the event kinds whose
arrival is a moment to evaluate; ``sweep_kinds``: a time-based trigger that a periodic sweep
must also look at), *per what* (``per``: evaluate the rule separately inside each top-level
category, "in a category") and *how often* (``cooldown``: never fire twice for one person
within it). The rule is evaluated by the real-time evaluator
(:mod:`shopkeeper.segments.realtime`), so a trigger means exactly what a segment rule means.

Evaluation returns a :class:`Firing` with **evidence**: the partition (category), each
aggregate's value in words, and the ids and SKUs of the events that made it true. Pure
module: no web or database imports; the service (``shopkeeper.triggers.service``) loads
events, keeps cooldowns and stores ``trigger_fired`` events.

Example::

    trigger = BUILTIN_TRIGGERS_BY_NAME["premium_affinity"]
    firing = evaluate(trigger, events, ids, now)      # None, or a Firing with evidence
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shopkeeper.segments.realtime import (
    CompiledRule,
    EventFacts,
    ProfileFacts,
    aggregate_value,
    compile_rule,
    event_filter,
)
from shopkeeper.segments.rules import (
    All,
    AnyOf,
    Compare,
    Condition,
    Count,
    Distinct,
    Not,
    Share,
    aggregate_spec,
    describe,
    parse_rule,
)

_NO_PROFILE = ProfileFacts()
_PROBE = datetime(2000, 1, 1, tzinfo=UTC)  # any moment: a rule over no events ignores it
#: Most event ids and SKUs an evidence list keeps (the newest): bounds the stored event.
MAX_EVIDENCE = 50


@dataclass(frozen=True)
class Trigger:
    """One named trigger.

    Attributes:
        name: Stable identifier, stored in each ``trigger_fired`` event.
        description: What it means, in words, for people reading the definitions.
        rule: The condition as rule-language data (aggregates over event fields only: a
            trigger sees a person's events, not profile fields).
        cooldown: After firing for a person, not again for that person within this time.
        on: Event kinds whose arrival is a moment to evaluate (None: every kind).
        per: ``"category"`` to evaluate the rule inside each top-level category separately
            (events without a category take part in none); None for all events together.
        sweep_kinds: For time-based triggers ("no order within an hour"), the kinds that make
            a person worth a look in the periodic sweep (``shopkeeper triggers run``); None:
            the trigger is evaluated only when events arrive.
    """

    name: str
    description: str
    rule: dict[str, Any]
    cooldown: timedelta
    on: frozenset[str] | None = None
    per: str | None = None
    sweep_kinds: frozenset[str] | None = None
    condition: Condition = field(init=False, repr=False, compare=False)
    compiled: CompiledRule = field(init=False, repr=False, compare=False)
    window: timedelta = field(init=False, repr=False, compare=False)
    #: A cheap necessary condition read off the rule: (kinds, window, n) = "the rule cannot
    #: hold unless n events of these kinds lie in the window". None when the rule has none.
    gate: Gate | None = field(init=False, repr=False, compare=False)
    #: The only event kinds the rule can see (every aggregate's filter pins ``kind``), so a
    #: loader may skip the rest; None when some aggregate can see any kind.
    kinds: frozenset[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        condition = parse_rule(self.rule)
        if any(isinstance(node, Compare) for node in _profile_nodes(condition)):
            raise ValueError(f"trigger {self.name}: use aggregates over events, not profile fields")
        if self.per not in (None, "category"):
            raise ValueError(f"trigger {self.name}: per must be 'category' or None")
        windows = [aggregate_spec(node)[1].within.delta for node in _aggregates(condition)]
        if not windows:
            raise ValueError(f"trigger {self.name}: the rule needs at least one aggregate")
        object.__setattr__(self, "condition", condition)
        object.__setattr__(self, "compiled", compile_rule(condition))
        object.__setattr__(self, "window", max(windows))
        object.__setattr__(self, "gate", _gate(condition))
        seen = [_kinds_of(_counted(node)) for node in _aggregates(condition)]
        exact = not self.compiled.matches(_NO_PROFILE, [], _PROBE)  # true on nothing: no pin
        pinned = [k for k in seen if k is not None]
        kinds = frozenset().union(*pinned) if exact and len(pinned) == len(seen) else None
        object.__setattr__(self, "kinds", kinds)

    def wants(self, kind: str) -> bool:
        """Is the arrival of an event of ``kind`` a moment to evaluate this trigger?"""
        return self.on is None or kind in self.on


@dataclass(frozen=True, slots=True)
class Gate:
    """At least ``n`` events of ``kinds`` within ``window``: necessary for the rule to hold."""

    kinds: frozenset[str]
    window: timedelta
    n: int


def _counted(node: Any) -> Condition | None:
    """The filter deciding which events an aggregate looks at (a share's denominator)."""
    if isinstance(node, Share):
        return node.share.of
    return aggregate_spec(node)[1].where


def _kinds_of(where: Condition | None) -> frozenset[str] | None:
    """The kinds an event filter can let through, or None when it does not pin ``kind``."""
    if isinstance(where, Compare):
        if where.field == "kind" and where.op in ("=", "in"):
            values = where.value if isinstance(where.value, list) else [where.value]
            return frozenset(str(v) for v in values)
        return None
    if isinstance(where, All):
        pinned = [k for k in (_kinds_of(part) for part in where.all) if k is not None]
        return frozenset.intersection(*pinned) if pinned else None
    if isinstance(where, AnyOf):
        found = [_kinds_of(part) for part in where.any]
        if any(k is None for k in found):
            return None
        return frozenset().union(*[k for k in found if k is not None])
    return None


def _gate(condition: Condition) -> Gate | None:
    """The first ``count`` or ``distinct`` of ``kind = / in ...`` ``>= n`` (n >= 1) that every
    match needs, if any (n distinct values need at least n events).

    Only parts of a top-level ``all`` (or the rule itself) are necessary; an ``any`` or a
    ``not`` promises nothing, so they are not looked into.
    """
    parts = condition.all if isinstance(condition, All) else [condition]
    for part in parts:
        if not isinstance(part, Count | Distinct) or part.op not in (">=", ">"):
            continue
        spec = aggregate_spec(part)[1]
        where = spec.where
        if not isinstance(where, Compare) or where.field != "kind" or where.op not in ("=", "in"):
            continue
        n = math.ceil(part.value) if part.op == ">=" else math.floor(part.value) + 1
        if n < 1:
            continue
        kinds = where.value if isinstance(where.value, list) else [where.value]
        return Gate(frozenset(str(k) for k in kinds), spec.within.delta, n)
    return None


@dataclass(frozen=True, slots=True)
class Firing:
    """A trigger that fired: when, and the evidence that made it true (JSON-ready)."""

    trigger: str
    at: datetime
    evidence: dict[str, Any]


def evaluate(
    trigger: Trigger, events: Sequence[EventFacts], ids: Sequence[int], now: datetime
) -> Firing | None:
    """Evaluate ``trigger`` over one person's events at ``now``.

    Args:
        events: The person's events (any order; those outside the rule's windows or after
            ``now`` are ignored, as the rule language says).
        ids: The stored id of each event, same order (for the evidence).
        now: The moment of evaluation: the arriving event's time, or the sweep's clock.

    Returns:
        A :class:`Firing`, or None. With ``per="category"`` the rule is tried in each
        top-level category and the one with the most evidence events wins (ties: by name).
    """
    if trigger.per is None:
        parts: list[tuple[str | None, list[int]]] = [(None, list(range(len(events))))]
    else:
        parts = sorted(_by_category(events, now - trigger.window, now).items())
    best: tuple[int, Firing] | None = None
    for value, indexes in parts:
        mine = [events[i] for i in indexes]
        if not trigger.compiled.matches(_NO_PROFILE, mine, now):
            continue
        evidence = _evidence(trigger, mine, [ids[i] for i in indexes], now)
        if trigger.per is not None:
            evidence = {trigger.per: value, **evidence}
        weight = len(evidence["event_ids"])
        if best is None or weight > best[0]:
            best = (weight, Firing(trigger.name, now, evidence))
    return best[1] if best else None


def _by_category(
    events: Sequence[EventFacts], start: datetime, now: datetime
) -> dict[str | None, list[int]]:
    found: dict[str | None, list[int]] = {}
    for i, e in enumerate(events):
        if e.category and start < e.timestamp <= now:
            found.setdefault(e.category.split("/", 1)[0], []).append(i)
    return found


def _evidence(
    trigger: Trigger, events: Sequence[EventFacts], ids: Sequence[int], now: datetime
) -> dict[str, Any]:
    """Each aggregate's value and the events it counted (newest :data:`MAX_EVIDENCE`)."""
    measures: list[dict[str, Any]] = []
    used: set[int] = set()
    for node in _aggregates(trigger.condition):
        spec = aggregate_spec(node)[1]
        start = now - spec.within.delta
        if isinstance(node, Share):  # counted: the denominator; hit: the numerator's part
            counted = event_filter(node.share.of) if node.share.of is not None else None
            hit: Callable[[EventFacts], bool] | None = event_filter(node.share.where)
        else:
            counted = event_filter(spec.where) if spec.where is not None else None
            hit = None
        within = [
            i
            for i, e in enumerate(events)
            if start < e.timestamp <= now and (counted is None or counted(e))
        ]
        value = aggregate_value(node, events, now)
        entry: dict[str, Any] = {
            "rule": describe(node),
            "value": round(value, 6) if isinstance(value, float) else value,
            "event_ids": _newest(events, ids, within),
        }
        if hit is not None:
            entry["matching_event_ids"] = _newest(
                events, ids, [i for i in within if hit(events[i])]
            )
        used.update(within)
        measures.append(entry)
    order = sorted(used, key=lambda i: (events[i].timestamp, ids[i]))
    skus = list(dict.fromkeys(events[i].sku for i in order if events[i].sku))
    return {
        "measures": measures,
        "event_ids": _newest(events, ids, list(used)),
        "skus": skus[-MAX_EVIDENCE:],
    }


def _newest(events: Sequence[EventFacts], ids: Sequence[int], indexes: list[int]) -> list[int]:
    order = sorted(indexes, key=lambda i: (events[i].timestamp, ids[i]))
    return [ids[i] for i in order][-MAX_EVIDENCE:]


def _aggregates(node: Condition) -> Iterator[Any]:
    """Every aggregate of a rule, in reading order."""
    if isinstance(node, All | AnyOf):
        for part in node.all if isinstance(node, All) else node.any:
            yield from _aggregates(part)
    elif isinstance(node, Not):
        yield from _aggregates(node.not_)
    elif not isinstance(node, Compare):
        yield node


def _profile_nodes(node: Condition) -> Iterator[Condition]:
    """The rule's nodes at profile scope (aggregates' filters excluded)."""
    yield node
    if isinstance(node, All | AnyOf):
        for part in node.all if isinstance(node, All) else node.any:
            yield from _profile_nodes(part)
    elif isinstance(node, Not):
        yield from _profile_nodes(node.not_)


# --- the built-in triggers ----------------------------------------------------------------------

VIEWED = {"field": "kind", "op": "=", "value": "product_viewed"}
CARTED = {"field": "kind", "op": "in", "value": ["product_added", "checkout_started"]}
ORDERED = {"field": "kind", "op": "=", "value": "order_completed"}
PREMIUM = {"field": "price_tier", "op": "=", "value": "premium"}
#: Browsing kinds: their arrival is a moment to look again (cart_abandoned needs time to pass).
VISIT_KINDS = frozenset(
    {
        "page_viewed",
        "screen_viewed",
        "product_viewed",
        "product_list_viewed",
        "product_searched",
        "product_clicked",
        "product_added",
        "cart_viewed",
        "checkout_started",
        "order_completed",
    }
)
#: Minutes without an order after the last add-to-cart before a cart counts as abandoned.
ABANDON_AFTER_MINUTES = 60

BUILTIN_TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        name="premium_affinity",
        description=(
            "Premium-minded: 4+ different products viewed in one top-level category within 14 "
            "days, 2+ of them premium-tier, and at least half of those views premium."
        ),
        rule={
            "all": [
                {
                    "distinct": {"field": "sku", "where": VIEWED, "within": {"days": 14}},
                    "op": ">=",
                    "value": 4,
                },
                {
                    "distinct": {
                        "field": "sku",
                        "where": {"all": [VIEWED, PREMIUM]},
                        "within": {"days": 14},
                    },
                    "op": ">=",
                    "value": 2,
                },
                {
                    "share": {"where": PREMIUM, "of": VIEWED, "within": {"days": 14}},
                    "op": ">=",
                    "value": 0.5,
                },
            ]
        },
        cooldown=timedelta(days=14),
        on=frozenset({"product_viewed"}),
        per="category",
    ),
    Trigger(
        name="category_interest",
        description=(
            "Interested in a category: 5+ product views or 2+ add-to-carts in one top-level "
            "category within 7 days."
        ),
        rule={
            "any": [
                {"count": {"where": VIEWED, "within": {"days": 7}}, "op": ">=", "value": 5},
                {
                    "count": {
                        "where": {"field": "kind", "op": "=", "value": "product_added"},
                        "within": {"days": 7},
                    },
                    "op": ">=",
                    "value": 2,
                },
            ]
        },
        cooldown=timedelta(days=7),
        on=frozenset({"product_viewed", "product_added"}),
        per="category",
    ),
    Trigger(
        name="browse_no_buy",
        description=(
            "Browsing without buying: 6+ product views within 2 hours and no add-to-cart, "
            "checkout or order in that time (fires while the visit goes on)."
        ),
        rule={
            "all": [
                {"count": {"where": VIEWED, "within": {"hours": 2}}, "op": ">=", "value": 6},
                {
                    "count": {
                        "where": {"any": [CARTED, ORDERED]},
                        "within": {"hours": 2},
                    },
                    "op": "=",
                    "value": 0,
                },
            ]
        },
        cooldown=timedelta(days=1),
        on=frozenset({"product_viewed"}),
    ),
    Trigger(
        name="cart_abandoned",
        description=(
            f"Cart abandoned: a product added or checkout started within 24 hours, none in the "
            f"last {ABANDON_AFTER_MINUTES} minutes, and no order in those 24 hours. Needs time "
            "to pass: evaluated on the person's next event and by `shopkeeper triggers run`."
        ),
        rule={
            "all": [
                {"count": {"where": CARTED, "within": {"hours": 24}}, "op": ">=", "value": 1},
                {
                    "count": {"where": CARTED, "within": {"minutes": ABANDON_AFTER_MINUTES}},
                    "op": "=",
                    "value": 0,
                },
                {"count": {"where": ORDERED, "within": {"hours": 24}}, "op": "=", "value": 0},
            ]
        },
        cooldown=timedelta(hours=24),
        on=VISIT_KINDS,
        sweep_kinds=frozenset({"product_added", "checkout_started"}),
    ),
)
BUILTIN_TRIGGERS_BY_NAME: dict[str, Trigger] = {t.name: t for t in BUILTIN_TRIGGERS}
