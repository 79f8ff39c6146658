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

Meaning: exactly :mod:`shopkeeper.segments.rules` (two-valued logic: every comparison is
``coalesce(..., false)``, so ``NOT`` of a comparison with a missing value is true).
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
    FieldSpec,
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
        columns = {f"rule_{i}": builder.condition(rule) for i, rule in enumerate(rules)}
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
        ev = self.events
        stamp = ev.timestamp.type()
        widest = max(aggregate_spec(node)[1].within.delta for _, node in wanted)
        recent = ev.filter(
            (ev.timestamp > ibis.literal(now - widest, type=stamp))
            & (ev.timestamp <= ibis.literal(now, type=stamp))
        )
        filters = _Builder(recent, self.registry, {}, scope="event")
        measures: dict[str, ir.Scalar] = {}
        for name, node in wanted:
            _, spec = aggregate_spec(node)
            inside = recent.timestamp > ibis.literal(now - spec.within.delta, type=stamp)
            if isinstance(node, Share):
                of = inside
                if node.share.of is not None:
                    of = of & filters.condition(node.share.of)
                hits = of & filters.condition(node.share.where)
                measures[f"{name}_n"] = recent.timestamp.count(where=hits)
                measures[f"{name}_d"] = recent.timestamp.count(where=of)
                continue
            where = inside & filters.condition(spec.where) if spec.where is not None else inside
            if isinstance(node, Count):
                measures[name] = recent.timestamp.count(where=where)
            else:
                assert isinstance(spec, FieldSpec)
                column = _clean(recent[spec.field])
                if isinstance(node, Sum):
                    measures[name] = column.cast("float64").sum(where=where)
                else:
                    measures[name] = column.nunique(where=where)
        grouped = recent.group_by("customer_id").aggregate(**measures)
        joined = self.customers.left_join(grouped, "customer_id")
        return joined.select(
            *[joined[c] for c in self.customers.columns], *[joined[c] for c in measures]
        )


class _Builder:
    """Turns rule nodes into boolean Ibis expressions over one table."""

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

    def condition(self, node: Condition) -> ir.BooleanValue:
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
            return ~self.condition(node.not_)
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
        return test.fill_null(False)

    def aggregate(self, node: Aggregate) -> ir.BooleanValue:
        name = self.aggregates[_key(node)]
        bound = ibis.literal(float(node.value), type=dt.float64)
        if isinstance(node, Share):
            hits, total = self.table[f"{name}_n"], self.table[f"{name}_d"]
            value = hits.cast("float64") / total.nullif(0).cast("float64")
        else:
            empty = 0.0 if isinstance(node, Sum) else 0
            value = self.table[name].fill_null(empty)
        return _ORDER[node.op](value, bound).fill_null(False)


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
