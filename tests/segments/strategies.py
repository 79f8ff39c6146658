"""Random rules and populations for the agreement tests, drawn from small shared vocabularies.

Rules and data use the same few values on purpose, so a random rule often matches some
customers and not others (a rule that matches nobody proves little). Populations plant the
hard cases: events exactly on a window's edge (and one microsecond either side), events at
``now`` and in the future, missing values and NaN.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from shopkeeper.segments.fields import DEFAULT_REGISTRY
from shopkeeper.segments.realtime import EventFacts, ProfileFacts

WINDOWS: list[dict[str, int]] = [
    {"days": 14},
    {"days": 1},
    {"hours": 6},
    {"minutes": 30},
    {"days": 90},
    {"days": 1, "hours": 12},
]
NUMBERS = [0, 1, 2, 3, 5, 10, 0.5, 2.5, -1]
TEXTS = {
    "rfm_segment": ["Loyal", "Champions", "Lost", "At risk"],
    "source": ["paid_social", "direct", "", "x'; DROP TABLE customers; --"],
    "tenure": ["newcomer", "returning", "regular"],
    "channel": ["paid_social", "organic", "email", "direct"],
    "first_channel": ["paid_social", "organic", "direct"],
    "traffic_channel": ["paid_social", "organic", "email", "direct"],
    "kind": ["product_viewed", "product_added", "order_completed", "page_viewed"],
    "category": ["kids", "kids/toddler", "kids/toddler/shoes", "kids/toddlers", "women/dresses"],
    "brand": ["acme", "zeta", "Acme"],
    "price_tier": ["premium", "budget", "mid"],
    "sku": ["s1", "s2", "s3", "s4"],
    "query": ["red shoes", "shoes", "50%_off", ""],
}
PREFIXES = ["kid", "kids/", "kids/toddler", "shoe", "", "%", "_"]
PROFILE = {
    "revenue": "number",
    "aov": "number",
    "clv": "number",
    "p_alive": "number",
    "affinity.category.kids": "number",
    "affinity.brand.zeta": "number",  # no column in the batch table: missing for everyone
    "orders": "integer",
    "rfm_r": "integer",
    "rfm_segment": "string",
    "source": "string",
    "channel": "string",
    "first_channel": "string",
    "tenure": "string",
    "first_visit": "boolean",
    "email_consent": "boolean",
}
EVENT = {
    "kind": "string",
    "category": "path",
    "brand": "string",
    "price_tier": "string",
    "sku": "string",
    "query": "string",
    "traffic_channel": "string",
    "value": "number",
}
OPS = {
    "number": ["=", "!=", "<", "<=", ">", ">=", "in", "not in", "is set", "is not set"],
    "string": ["=", "!=", "in", "not in", "starts_with", "contains", "is set", "is not set"],
    "boolean": ["=", "!=", "is set", "is not set"],
}
OPS["integer"] = OPS["number"]
OPS["path"] = [*OPS["string"], "under", "under"]
AGG_OPS = ["=", "!=", "<", "<=", ">", ">="]
THRESHOLDS = [0, 1, 2, 3, 0.5, 0.25, 2.5, 1 / 3]


def _value(draw: st.DrawFn, name: str, kind: str, op: str) -> Any:
    if kind in ("number", "integer"):
        return draw(st.sampled_from(NUMBERS))
    if kind == "boolean":
        return draw(st.booleans())
    if op in ("starts_with", "contains"):
        return draw(st.sampled_from(PREFIXES + TEXTS.get(name, [])))
    if op == "under":
        return draw(st.sampled_from(["kids", "kids/toddler", "women", "kids/toddler/shoes"]))
    return draw(st.sampled_from(TEXTS[name]))


@st.composite
def compare(draw: st.DrawFn, fields: dict[str, str]) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(fields)))
    kind = fields[name]
    op = draw(st.sampled_from(OPS[kind]))
    node: dict[str, Any] = {"field": name, "op": op}
    if op in ("in", "not in"):
        node["value"] = [_value(draw, name, kind, "=") for _ in range(draw(st.integers(1, 4)))]
    elif op not in ("is set", "is not set"):
        node["value"] = _value(draw, name, kind, op)
    return node


def logic(leaf: st.SearchStrategy[dict[str, Any]], depth: int) -> st.SearchStrategy[Any]:
    """Leaves joined by all / any / not, at most ``depth`` levels deep."""
    if depth <= 1:
        return leaf
    inner = logic(leaf, depth - 1)
    return st.one_of(
        leaf,
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"all": parts}),
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"any": parts}),
        inner.map(lambda part: {"not": part}),
    )


EVENT_FILTERS = logic(compare(EVENT), 2)


@st.composite
def aggregate(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["count", "sum", "distinct", "share"]))
    within = draw(st.sampled_from(WINDOWS))
    spec: dict[str, Any] = {"within": within}
    maybe_filter = st.none() | EVENT_FILTERS
    if kind == "share":
        spec["where"] = draw(EVENT_FILTERS)
        if (of := draw(maybe_filter)) is not None:
            spec["of"] = of
    else:
        if (where := draw(maybe_filter)) is not None:
            spec["where"] = where
        if kind == "sum":
            spec["field"] = "value"
        elif kind == "distinct":
            spec["field"] = draw(st.sampled_from(["sku", "brand", "category", "value"]))
    return {
        kind: spec,
        "op": draw(st.sampled_from(AGG_OPS)),
        "value": draw(st.sampled_from(THRESHOLDS)),
    }


RULES = logic(st.one_of(compare(PROFILE), aggregate()), 4)


# --- populations ------------------------------------------------------------------------------


class Population:
    """A shop's customers and events at ``now`` (a plain class: failure reports stay short)."""

    def __init__(
        self,
        now: datetime,
        profiles: dict[str, ProfileFacts],
        events: dict[str, list[EventFacts]],
    ) -> None:
        self.now, self.profiles, self.events = now, profiles, events

    def __repr__(self) -> str:  # failure reports show the rule, not 30 customers' events
        return f"Population(now={self.now!r}, customers={len(self.profiles)})"

    def customers_table(self) -> pa.Table:
        types = {"number": pa.float64(), "integer": pa.int64(), "string": pa.string()}
        columns: dict[str, pa.Array] = {"customer_id": pa.array(list(self.profiles))}
        for name, kind in PROFILE.items():
            if name == "affinity.brand.zeta":
                continue
            values = [p.values.get(name) for p in self.profiles.values()]
            columns[name] = pa.array(values, types.get(kind, pa.bool_()))
        return pa.table(columns)

    def events_table(self) -> pa.Table:
        rows = [(cid, e) for cid, events in self.events.items() for e in events]
        columns: dict[str, pa.Array] = {
            "customer_id": pa.array([cid for cid, _ in rows], pa.string()),
            "timestamp": pa.array([e.timestamp for _, e in rows], pa.timestamp("us")),
        }
        for name, kind in EVENT.items():
            arrow = pa.float64() if kind == "number" else pa.string()
            columns[name] = pa.array([getattr(e, name) for _, e in rows], arrow)
        return pa.table(columns)


def population(rng: random.Random, size: int = 30) -> Population:
    """A small shop around a ``now`` with microseconds; edge cases planted on purpose."""
    now = datetime(2026, 3, 1, 12, 0, 0) + timedelta(
        seconds=rng.randrange(0, 86400 * 30), microseconds=rng.randrange(1_000_000)
    )
    edges = [timedelta(**w) for w in WINDOWS]
    offsets = [timedelta(0), timedelta(microseconds=-1), timedelta(days=-1)]
    offsets += [e + timedelta(microseconds=d) for e in edges for d in (-1, 0, 1)]
    profiles: dict[str, ProfileFacts] = {}
    events: dict[str, list[EventFacts]] = {}
    for i in range(size):
        cid = f"c{i:02d}"
        values: dict[str, Any] = {}
        for name, kind in PROFILE.items():
            roll = rng.random()
            if roll < 0.2 or name == "affinity.brand.zeta":
                continue  # missing
            if kind in ("number", "integer"):
                value: Any = rng.choice(NUMBERS)
                if kind == "integer":
                    value = int(value)
                elif roll < 0.25:
                    value = float("nan")
            elif kind == "boolean":
                value = rng.random() < 0.5
            else:
                value = rng.choice(TEXTS[name])
            values[name] = value
        profiles[cid] = ProfileFacts(values)
        mine = []
        for _ in range(rng.randrange(0, 9)):
            if rng.random() < 0.4:
                age = rng.choice(offsets)
            else:
                age = timedelta(seconds=rng.randrange(0, 86400 * 100))
            mine.append(
                EventFacts(
                    timestamp=now - age,
                    kind=rng.choice(TEXTS["kind"]),
                    **{
                        name: _event_value(rng, name)
                        for name in (
                            "category",
                            "brand",
                            "price_tier",
                            "sku",
                            "query",
                            "traffic_channel",
                            "value",
                        )
                    },
                )
            )
        events[cid] = mine
    return Population(now, profiles, events)


def _event_value(rng: random.Random, name: str) -> Any:
    if rng.random() < 0.2:
        return None
    if name == "value":
        return rng.choice([0.0, 0.5, 1.0, 2.5, 10.0, 19.75])
    return rng.choice(TEXTS[name])


def registry_types_agree() -> bool:
    """The vocabularies above use each field with its registered type."""
    for name, kind in PROFILE.items():
        field = DEFAULT_REGISTRY.resolve(name, "profile")
        if field is None or field.type != kind:
            return False
    return all(
        (f := DEFAULT_REGISTRY.resolve(n, "event")) and f.type == k for n, k in EVENT.items()
    )
