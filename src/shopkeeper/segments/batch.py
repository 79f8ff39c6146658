"""Batch evaluation: every customer at once, pushed down to the analytics engine as Ibis.

Input is two tables:

* ``customers(customer_id, <profile fields>)`` — one column per profile field, named exactly
  as in the field registry (``revenue``, ``affinity.category.kids``). A field with no column
  is missing for everyone, as an absent key is in real time.
* ``events(customer_id, timestamp, kind, category, brand, price_tier, ...)`` — the event
  fields of :mod:`shopkeeper.segments.fields`.

Every aggregate of every rule becomes one conditional aggregate (``count(...) FILTER (WHERE
...)``) in a single ``GROUP BY customer_id`` over the events inside the widest window, so many
rules cost one scan. Rule values enter as typed Ibis literals, which the engine's SQL compiler
quotes; nothing from a rule is ever pasted into SQL text.

Meaning: exactly :mod:`shopkeeper.segments.rules` (two-valued logic: ``NOT`` of a comparison
with a missing value is true; see :class:`_Builder` for how that maps onto SQL's NULLs).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from shopkeeper.segments.fields import DEFAULT_REGISTRY, FieldRegistry, Scope
from shopkeeper.segments.rules import (
    All,
    AnyOf,
    Compare,
    Condition,
    Count,
    Distinct,
    Not,
    Share,
    Sum,
    aggregate_spec,
)

_TYPES: dict[str, dt.DataType] = {
    "number": dt.float64,
    "integer": dt.int64,
    "string": dt.string,
    "path": dt.string,
    "boolean": dt.boolean,
}
Aggregate = Count | Sum | Distinct | Share


class BatchEvaluator:
    """Rules over whole tables. Build once per pair of tables; call per rule or per rule set.

    Example::

        con = ibis.duckdb.connect()
        batch = BatchEvaluator(con.table("customers"), con.table("events"))
        batch.members(rule, now)          # {"c1", "c7", ...}
    """

    def __init__(
        self,
        customers: ir.Table,
        events: ir.Table,
        registry: FieldRegistry = DEFAULT_REGISTRY,
    ) -> None:
        self.customers = customers
        self.events = events
        self.registry = registry

    def membership(self, rules: Sequence[Condition], now: datetime) -> ir.Table:
        """``customer_id`` plus one boolean column per rule (``rule_0``, ``rule_1``, ...).

        One expression, one scan of the events however many rules: aggregates shared by
        several rules are computed once.
        """
        now = self._align(now)
        aggregates: dict[str, tuple[str, Aggregate]] = {}
        for rule in rules:
            for node in _aggregates(rule):
                key = _key(node)
                aggregates.setdefault(key, (f"__a{len(aggregates)}", node))
        table = self.customers
        if aggregates:
            table = self._join_aggregates(list(aggregates.values()), now)
        names = {key: name for key, (name, _) in aggregates.items()}
        builder = _Builder(table, self.registry, names)
        columns = {f"rule_{i}": builder.decide(rule) for i, rule in enumerate(rules)}
        return table.select(table.customer_id, **columns)

    def members(self, rule: Condition, now: datetime) -> set[Any]:
        """The ids of the customers that match ``rule`` at ``now``."""
        table = self.membership([rule], now)
        found = table.filter(table.rule_0).select("customer_id").to_pyarrow()
        return set(found.column("customer_id").to_pylist())

    def _align(self, now: datetime) -> datetime:
        """Give ``now`` the events column's kind of timestamp (aware vs naive UTC)."""
        kind = self.events.timestamp.type()
        aware = isinstance(kind, dt.Timestamp) and kind.timezone is not None
        if aware and now.tzinfo is None:
            return now.replace(tzinfo=UTC)
        if not aware and now.tzinfo is not None:
            return now.astimezone(UTC).replace(tzinfo=None)
        return now

    def _join_aggregates(self, wanted: list[tuple[str, Aggregate]], now: datetime) -> ir.Table:
        """Left-join the per-customer measures of ``wanted`` onto the customers table.

        Each distinct event filter and window is computed once per event as a boolean column
        (the engine does not share equal expressions across ``FILTER`` clauses by itself);
        the measures then only AND those columns.
        """
        ev = self.events
        stamp = ev.timestamp.type()
        widest = max(aggregate_spec(node)[1].within.delta for _, node in wanted)
        recent = ev.filter(
            (ev.timestamp > ibis.literal(now - widest, type=stamp))
            & (ev.timestamp <= ibis.literal(now, type=stamp))
        )
        builder = _Builder(recent, self.registry, {}, scope="event")
        flags: dict[str, tuple[str, ir.BooleanValue]] = {}

        def flag(node: Condition | None) -> list[str]:
            if node is None:
                return []
            key = json.dumps(node.model_dump(mode="json", by_alias=True), sort_keys=True)
            if key not in flags:
                flags[key] = (f"__f{len(flags)}", builder.decide(node))
            return [flags[key][0]]

        def window(node: Aggregate) -> list[str]:
            delta = aggregate_spec(node)[1].within.delta
            if delta == widest:
                return []  # every row left after the filter above is inside
            key = f"window:{delta}"
            if key not in flags:
                start = ibis.literal(now - delta, type=stamp)
                flags[key] = (f"__f{len(flags)}", recent.timestamp > start)
            return [flags[key][0]]

        plans: list[tuple[str, Aggregate, list[str], list[str]]] = []
        for name, node in wanted:
            if isinstance(node, Share):
                of = window(node) + flag(node.share.of)
                plans.append((name, node, of + flag(node.share.where), of))
            else:
                plans.append((name, node, window(node) + flag(aggregate_spec(node)[1].where), []))
        flagged = recent.mutate(**dict(flags.values()))

        def where(names: list[str]) -> ir.BooleanValue | None:
            if not names:
                return None
            test = flagged[names[0]]
            for other in names[1:]:
                test = test & flagged[other]
            return test

        measures: dict[str, ir.Scalar] = {}
        distinct: dict[str, dict[str, list[str]]] = {}  # field -> measure name -> flags
        for name, node, hits, total in plans:
            if isinstance(node, Share):
                measures[f"{name}_n"] = flagged.timestamp.count(where=where(hits))
                measures[f"{name}_d"] = flagged.timestamp.count(where=where(total))
            elif isinstance(node, Count):
                measures[name] = flagged.timestamp.count(where=where(hits))
            elif isinstance(node, Sum):
                column = _clean(flagged[node.sum.field]).cast("float64")
                measures[name] = column.sum(where=where(hits))
            else:
                assert isinstance(node, Distinct)
                distinct.setdefault(node.distinct.field, {})[name] = hits
        parts = [flagged.group_by("customer_id").aggregate(**measures)] if measures else []
        parts += [_distinct_counts(flagged, field, wanted) for field, wanted in distinct.items()]
        table = self.customers
        for part in parts:
            joined = table.left_join(part, "customer_id")
            names = [c for c in part.columns if c != "customer_id"]
            table = joined.select(*[joined[c] for c in table.columns], *[joined[c] for c in names])
        return table


class _Builder:
    """Turns rule nodes into boolean Ibis expressions over one table.

    Two-valued logic at SQL's cost: ``AND``/``OR`` are monotone, so a subtree with no ``NOT``
    inside is true in SQL's three-valued logic exactly when it is true with every missing
    comparison read as false. So only two places coalesce a NULL to false: the operand of
    each ``NOT`` and the whole rule (:meth:`decide`), not every comparison.
    """

    def __init__(
        self,
        table: ir.Table,
        registry: FieldRegistry,
        aggregates: dict[str, str],
        scope: Scope = "profile",
    ) -> None:
        self.table = table
        self.registry = registry
        self.aggregates = aggregates
        self.scope = scope

    def decide(self, node: Condition) -> ir.BooleanValue:
        """The rule's two-valued verdict: never NULL."""
        return self.condition(node).fill_null(False)

    def condition(self, node: Condition) -> ir.BooleanValue:
        """The rule in SQL's logic (may be NULL where the two-valued verdict is false)."""
        if isinstance(node, All):
            parts = [self.condition(p) for p in node.all]
            result = parts[0]
            for part in parts[1:]:
                result = result & part
            return result
        if isinstance(node, AnyOf):
            parts = [self.condition(p) for p in node.any]
            result = parts[0]
            for part in parts[1:]:
                result = result | part
            return result
        if isinstance(node, Not):
            return ~self.decide(node.not_)
        if isinstance(node, Compare):
            return self.compare(node)
        return self.aggregate(node)

    def compare(self, node: Compare) -> ir.BooleanValue:
        op, x = node.op, node.value
        if node.field not in self.table.columns:
            # Missing for everyone. Decided here, not by comparing a NULL literal: Ibis folds
            # ``NULL != x`` into ``x IS NOT NULL``, which would be true.
            return ibis.literal(op == "is not set")
        column = _clean(self.table[node.field])
        if op == "is set":
            return column.notnull()
        if op == "is not set":
            return column.isnull()
        kind = column.type()
        if op in ("in", "not in"):
            values = [_literal(v, kind) for v in (x if isinstance(x, list) else [x])]
            test = column.isin(values) if op == "in" else column.notin(values)
        elif op == "starts_with":
            test = column.startswith(_literal(x, kind))
        elif op == "contains":
            test = column.contains(_literal(x, kind))
        elif op == "under":
            test = (column == _literal(x, kind)) | column.startswith(_literal(f"{x}/", kind))
        else:
            test = _ORDER[op](column, _literal(x, kind))
        return test

    def aggregate(self, node: Aggregate) -> ir.BooleanValue:
        name = self.aggregates[_key(node)]
        bound = ibis.literal(float(node.value), type=dt.float64)
        if isinstance(node, Share):
            hits, total = self.table[f"{name}_n"], self.table[f"{name}_d"]
            value = hits.cast("float64") / total.nullif(0).cast("float64")
        else:
            # as DOUBLE: a BIGINT against a literal like 4.0 would be compared as DECIMAL
            value = self.table[name].fill_null(0).cast("float64")
        return _ORDER[node.op](value, bound)


_ORDER: dict[str, Any] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _literal(value: Any, kind: dt.DataType) -> ir.Scalar:
    """A typed literal: the engine quotes it; a number meets a number column as that type."""
    if kind.is_floating():
        return ibis.literal(float(value), type=dt.float64)
    if kind.is_integer() and isinstance(value, float):
        return ibis.literal(value, type=dt.float64)
    return ibis.literal(value, type=kind)


def _clean(column: ir.Value) -> ir.Value:
    """NaN is a missing value (as in real time), not DuckDB's largest number."""
    if column.type().is_floating():
        return column.isnan().ifelse(ibis.null(column.type()), column)
    return column


def _distinct_counts(events: ir.Table, field: str, wanted: dict[str, list[str]]) -> ir.Table:
    """Distinct counts of ``field`` per customer, one column per measure, in two plain steps.

    ``COUNT(DISTINCT x) FILTER (...)`` drags DuckDB's whole aggregate onto its slow
    distinct path; grouping by (customer, value) first and then counting the groups that
    passed each measure's filter gives the same numbers several times faster.
    """
    keyed = events.mutate(__value=_clean(events[field]))
    keyed = keyed.filter(keyed.__value.notnull())
    passed: dict[str, ir.Scalar] = {}
    for name, flags in wanted.items():
        test = keyed[flags[0]] if flags else keyed.__value.notnull()  # a column: always true
        for other in flags[1:]:
            test = test & keyed[other]
        passed[name] = test.any()
    pairs = keyed.group_by(["customer_id", "__value"]).aggregate(**passed)
    counts = {name: pairs[name].sum() for name in wanted}  # booleans add up as 0/1
    return pairs.group_by("customer_id").aggregate(**counts)


def _aggregates(node: Condition) -> list[Aggregate]:
    if isinstance(node, All):
        return [a for part in node.all for a in _aggregates(part)]
    if isinstance(node, AnyOf):
        return [a for part in node.any for a in _aggregates(part)]
    if isinstance(node, Not):
        return _aggregates(node.not_)
    if isinstance(node, Compare):
        return []
    return [node]


def _key(node: Aggregate) -> str:
    """Identity of an aggregate's measure (spec only: two thresholds on one count share it)."""
    kind, spec = aggregate_spec(node)
    return kind + json.dumps(spec.model_dump(mode="json", by_alias=True), sort_keys=True)
