"""The segment rule language: a tree of Pydantic models, loaded from JSON, YAML or Python.

A rule is data. It is never evaluated as code and never spliced into SQL; the two evaluators
(:mod:`~shopkeeper.segments.realtime`, :mod:`~shopkeeper.segments.batch`) walk this tree.

Nodes (each a JSON object recognised by its one distinguishing key)::

    {"all": [rule, ...]}            every part holds (AND)
    {"any": [rule, ...]}            at least one holds (OR)
    {"not": rule}                   the part does not hold
    {"field": "revenue", "op": ">=", "value": 100}        compare a profile field
    {"count": {"where": filter, "within": {"days": 14}}, "op": ">=", "value": 4}
    {"sum": {"field": "value", "where": ..., "within": ...}, "op": ">", "value": 200}
    {"distinct": {"field": "sku", "where": ..., "within": ...}, "op": ">=", "value": 3}
    {"share": {"where": filter, "of": filter, "within": ...}, "op": ">=", "value": 0.5}

A ``filter`` is the same language restricted to event fields (all / any / not / field), with
no aggregates inside. ``share`` is count(of AND where) ÷ count(of): "premium share of those
views". Operators: ``= != < <= > >=`` (numbers; ``=``/``!=`` also strings and booleans),
``in`` / ``not in`` (a list), ``starts_with`` / ``contains`` (strings), ``under`` (category
paths: ``kids/toddler`` is under ``kids``, ``kids/toddlers`` is not), ``is set`` / ``is not set``.

Semantics shared by both evaluators (two-valued, not SQL's three-valued logic):

* A comparison with a missing value is **false** — every operator, ``!=`` and ``not in``
  included; only ``is not set`` is true for it. ``not`` is plain negation, so
  ``not (revenue > 100)`` is true for a customer with no revenue.
* ``count`` and ``distinct`` of no events are 0 (``distinct`` ignores missing values);
  ``sum`` ignores missing values and is 0 for none; ``share`` with a zero denominator is
  missing, so any comparison with it is false.
* Windows: an event is within "the last N" when ``now - N < timestamp <= now`` (an event
  exactly N ago is out; one at ``now`` is in; future events are out).
* NaN counts as missing. Sums are floating point: the evaluators agree exactly when event
  values are exactly representable (whole numbers, halves, quarters...); otherwise they may
  differ in the last bit, which matters only when a sum lands exactly on the threshold.

Validation (:func:`parse_rule`) names the offending part as a path, e.g.
``rule.all[2].count.where.field: unknown event field 'categroy' (did you mean 'category'?)``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Discriminator,
    Strict,
    Tag,
    TypeAdapter,
    ValidationError,
)
from pydantic import Field as PydanticField

from shopkeeper.errors import Invalid
from shopkeeper.segments.fields import DEFAULT_REGISTRY, FieldRegistry, Scope

MAX_DEPTH = 12
MAX_NODES = 200
MAX_LIST = 1000
MAX_STRING = 1000
MAX_WINDOW = timedelta(days=5 * 365 + 1)
MAX_TEXT = 256 * 1024  # bytes of JSON/YAML text
MAX_NUMBER = 2**53  # beyond this, floats and int64 columns stop agreeing
#: Guards on the raw document, checked before any model is built (nesting bombs, huge lists).
_RAW_DEPTH = 3 * MAX_DEPTH + 4
_RAW_ITEMS = 50 * MAX_LIST

CompareOp = Literal[
    "=", "!=", "<", "<=", ">", ">=", "in", "not in",
    "starts_with", "contains", "under", "is set", "is not set",
]  # fmt: skip
NumberOp = Literal["=", "!=", "<", "<=", ">", ">="]
ORDERING_OPS = frozenset({"<", "<=", ">", ">="})
LIST_OPS = frozenset({"in", "not in"})
TEXT_OPS = frozenset({"starts_with", "contains"})
SET_OPS = frozenset({"is set", "is not set"})

Number = Annotated[int, Strict()] | Annotated[float, Strict(), AllowInfNan(False)]
Scalar = Annotated[bool, Strict()] | Number | Annotated[str, Strict()]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Window(_Node):
    """A rolling window ending at ``now``; the parts add up (``{"days": 1, "hours": 12}``)."""

    days: Annotated[int, Strict()] = 0
    hours: Annotated[int, Strict()] = 0
    minutes: Annotated[int, Strict()] = 0

    @property
    def delta(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours, minutes=self.minutes)


class All(_Node):
    all: list[Condition]


class AnyOf(_Node):
    any: list[Condition]


class Not(_Node):
    not_: Condition = PydanticField(alias="not")


class Compare(_Node):
    """``field op value``; ``value`` is a list for ``in``/``not in``, absent for ``is set``."""

    field: str
    op: CompareOp
    value: Scalar | list[Scalar] | None = None


class CountSpec(_Node):
    where: Condition | None = None
    within: Window


class FieldSpec(_Node):
    field: str
    where: Condition | None = None
    within: Window


class ShareSpec(_Node):
    where: Condition
    of: Condition | None = None
    within: Window


class Count(_Node):
    count: CountSpec
    op: NumberOp
    value: Number


class Sum(_Node):
    sum: FieldSpec
    op: NumberOp
    value: Number


class Distinct(_Node):
    distinct: FieldSpec
    op: NumberOp
    value: Number


class Share(_Node):
    share: ShareSpec
    op: NumberOp
    value: Number


Aggregate = Count | Sum | Distinct | Share
_KEYS = {
    "all": "node:all",
    "any": "node:any",
    "not": "node:not",
    "field": "node:field",
    "count": "node:count",
    "sum": "node:sum",
    "distinct": "node:distinct",
    "share": "node:share",
}
#: Location parts Pydantic adds that mean nothing to a rule author (union tags and members).
_SKIPPED = frozenset({*_KEYS.values(), "bool", "int", "float", "str"})


def _node_tag(value: Any) -> str | None:
    """Which node a raw object is: the first distinguishing key it has."""
    if isinstance(value, dict):
        return next((tag for key, tag in _KEYS.items() if key in value), None)
    if isinstance(value, BaseModel):
        return _CLASS_TAGS.get(type(value))
    return None


Condition = Annotated[
    Annotated[All, Tag("node:all")]
    | Annotated[AnyOf, Tag("node:any")]
    | Annotated[Not, Tag("node:not")]
    | Annotated[Compare, Tag("node:field")]
    | Annotated[Count, Tag("node:count")]
    | Annotated[Sum, Tag("node:sum")]
    | Annotated[Distinct, Tag("node:distinct")]
    | Annotated[Share, Tag("node:share")],
    Discriminator(
        _node_tag,
        custom_error_type="unknown_node",
        custom_error_message=f"not a rule: expected an object with one of {', '.join(_KEYS)}",
    ),
]
_CLASS_TAGS: dict[type[BaseModel], str] = {
    All: "node:all",
    AnyOf: "node:any",
    Not: "node:not",
    Compare: "node:field",
    Count: "node:count",
    Sum: "node:sum",
    Distinct: "node:distinct",
    Share: "node:share",
}
for _model in (All, AnyOf, Not, CountSpec, FieldSpec, ShareSpec):
    _model.model_rebuild()
_ADAPTER: TypeAdapter[Condition] = TypeAdapter(Condition)


class RuleError(Invalid):
    """A rule failed validation. ``detail["errors"]`` lists every ``{"path", "message"}``."""


def parse_rule(data: Any, registry: FieldRegistry = DEFAULT_REGISTRY) -> Condition:
    """Validate a rule given as a dict (parsed JSON/YAML) or as models; raise :class:`RuleError`.

    Three passes, cheapest first: the raw document's size and nesting (so a nesting bomb never
    reaches the model builder), the structure (Pydantic: node kinds, keys, operators, value
    types), then the meaning (fields known in their scope, values of the field's type, limits).
    """
    if isinstance(data, BaseModel):
        data = data.model_dump(by_alias=True, exclude_none=True)
    _check_raw(data)
    try:
        rule = _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise _from_pydantic(exc) from None
    errors = list(check(rule, registry))
    if errors:
        raise _rule_error(errors)
    return rule


def parse_json(text: str | bytes, registry: FieldRegistry = DEFAULT_REGISTRY) -> Condition:
    """:func:`parse_rule` for JSON text (``NaN``/``Infinity`` are refused)."""
    _check_size(text)
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise _rule_error([("rule", f"not valid JSON: {exc}")]) from None
    return parse_rule(data, registry)


def parse_yaml(text: str | bytes, registry: FieldRegistry = DEFAULT_REGISTRY) -> Condition:
    """:func:`parse_rule` for YAML text (safe loader: plain data only, no tags or objects)."""
    import yaml

    _check_size(text)
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise _rule_error([("rule", f"not valid YAML: {exc}")]) from None
    return parse_rule(data, registry)


def dump_rule(rule: Condition) -> dict[str, Any]:
    """The rule as plain JSON-ready data (what :func:`parse_rule` reads back)."""
    dumped: dict[str, Any] = rule.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    return dumped


# --- the meaning pass -------------------------------------------------------------------------


def check(rule: Condition, registry: FieldRegistry = DEFAULT_REGISTRY) -> Iterator[tuple[str, str]]:
    """Yield ``(path, message)`` for each problem of a structurally valid rule."""
    nodes = 0
    stack: list[tuple[Condition, str, int, Scope]] = [(rule, "rule", 1, "profile")]
    while stack:
        node, path, depth, scope = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            yield path, f"the rule has more than {MAX_NODES} parts"
            return
        if depth > MAX_DEPTH:
            yield path, f"nesting deeper than {MAX_DEPTH} levels"
            return
        if isinstance(node, All | AnyOf):
            key, parts = ("all", node.all) if isinstance(node, All) else ("any", node.any)
            if not parts:
                yield f"{path}.{key}", "needs at least one part"
            for i, part in reversed(list(enumerate(parts))):
                stack.append((part, f"{path}.{key}[{i}]", depth + 1, scope))
        elif isinstance(node, Not):
            stack.append((node.not_, f"{path}.not", depth + 1, scope))
        elif isinstance(node, Compare):
            yield from _check_compare(node, path, scope, registry)
        else:
            if scope == "event":
                yield path, "aggregates cannot be nested inside an event filter"
                continue
            yield from _check_aggregate(node, path, registry)
            for sub_path, sub in _filters(node, path):
                stack.append((sub, sub_path, depth + 1, "event"))


def _filters(node: Aggregate, path: str) -> list[tuple[str, Condition]]:
    if isinstance(node, Share):
        spec = node.share
        found = [(f"{path}.share.where", spec.where)]
        return found + ([(f"{path}.share.of", spec.of)] if spec.of is not None else [])
    key, inner = _spec(node)
    return [(f"{path}.{key}.where", inner.where)] if inner.where is not None else []


def _spec(node: Aggregate) -> tuple[str, CountSpec | FieldSpec | ShareSpec]:
    if isinstance(node, Count):
        return "count", node.count
    if isinstance(node, Sum):
        return "sum", node.sum
    if isinstance(node, Distinct):
        return "distinct", node.distinct
    return "share", node.share


def _check_aggregate(
    node: Aggregate, path: str, registry: FieldRegistry
) -> Iterator[tuple[str, str]]:
    key, spec = _spec(node)
    window = spec.within
    if min(window.days, window.hours, window.minutes) < 0 or window.delta <= timedelta(0):
        yield f"{path}.{key}.within", "the window must be positive"
    elif window.delta > MAX_WINDOW:
        yield f"{path}.{key}.within", "the window may not exceed 5 years"
    if isinstance(spec, FieldSpec):
        field = registry.resolve(spec.field, "event")
        if field is None:
            yield f"{path}.{key}.field", _unknown(spec.field, "event", registry)
        elif isinstance(node, Sum) and field.type not in ("number", "integer"):
            yield f"{path}.{key}.field", f"sum needs a number field; '{spec.field}' is {field.type}"
    yield from _check_number(node.value, f"{path}.value")


def _check_compare(
    node: Compare, path: str, scope: Scope, registry: FieldRegistry
) -> Iterator[tuple[str, str]]:
    if len(node.field) > MAX_STRING:
        yield f"{path}.field", f"longer than {MAX_STRING} characters"
        return
    field = registry.resolve(node.field, scope)
    if field is None:
        yield f"{path}.field", _unknown(node.field, scope, registry)
        return
    op, value, kind = node.op, node.value, field.type
    allowed = _OPS_BY_TYPE[kind]
    if op not in allowed:
        yield f"{path}.op", f"'{op}' cannot be used with {kind} field '{field.name}'"
        return
    if op in SET_OPS:
        if value is not None:
            yield f"{path}.value", f"'{op}' takes no value"
        return
    if op in LIST_OPS:
        if not isinstance(value, list):
            yield f"{path}.value", f"'{op}' needs a list of values"
            return
        if not value:
            yield f"{path}.value", "the list is empty"
        if len(value) > MAX_LIST:
            yield f"{path}.value", f"more than {MAX_LIST} values"
            return
        for i, item in enumerate(value):
            yield from _check_scalar(item, kind, field.name, f"{path}.value[{i}]")
        return
    if value is None or isinstance(value, list):
        yield f"{path}.value", f"'{op}' needs one value"
        return
    yield from _check_scalar(value, kind, field.name, f"{path}.value")
    if op == "under" and isinstance(value, str) and (not value or value.strip("/") != value):
        yield f"{path}.value", "a category path: not empty, no leading or trailing '/'"


def _check_scalar(value: Any, kind: str, name: str, path: str) -> Iterator[tuple[str, str]]:
    expected = {"number": "a number", "integer": "a number", "boolean": "true or false"}
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield path, f"'{name}' is a number; got {_show(value)}"
        else:
            yield from _check_number(value, path)
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield path, f"'{name}' is {expected[kind]}; got {_show(value)}"
    elif not isinstance(value, str):
        yield path, f"'{name}' is text; got {_show(value)}"
    elif len(value) > MAX_STRING:
        yield path, f"text longer than {MAX_STRING} characters"


def _check_number(value: float, path: str) -> Iterator[tuple[str, str]]:
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        yield path, f"number out of range (at most ±{MAX_NUMBER})"


_NUMBER_OPS = frozenset({"=", "!=", *ORDERING_OPS, *LIST_OPS, *SET_OPS})
_STRING_OPS = frozenset({"=", "!=", *LIST_OPS, *TEXT_OPS, *SET_OPS})
_OPS_BY_TYPE: dict[str, frozenset[str]] = {
    "number": _NUMBER_OPS,
    "integer": _NUMBER_OPS,
    "string": _STRING_OPS,
    "path": _STRING_OPS | {"under"},
    "boolean": frozenset({"=", "!=", *SET_OPS}),
}


def _unknown(name: str, scope: Scope, registry: FieldRegistry) -> str:
    what = "event field" if scope == "event" else "field"
    hint = registry.suggest(name, scope)
    if hint is None and scope == "event" and registry.resolve(name, "profile") is not None:
        return f"'{name}' is a profile field; an event filter can only use event fields"
    if hint is None and scope == "profile" and registry.resolve(name, "event") is not None:
        return f"'{name}' is an event field; use it inside an aggregate's 'where'"
    return f"unknown {what} {_show(name)}" + (f" (did you mean '{hint}'?)" if hint else "")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- the raw and structure passes -------------------------------------------------------------


def _check_size(text: str | bytes) -> None:
    if len(text) > MAX_TEXT:
        raise _rule_error([("rule", f"the rule text is larger than {MAX_TEXT // 1024} KB")])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a rule may use")


def _check_raw(data: Any) -> None:
    """Walk the raw document without recursion: bound its nesting and its number of items."""
    items = 0
    stack: list[tuple[Any, str, int]] = [(data, "rule", 0)]
    while stack:
        value, path, depth = stack.pop()
        items += 1
        if items > _RAW_ITEMS:
            raise _rule_error([("rule", f"the rule has more than {_RAW_ITEMS} values")])
        if depth > _RAW_DEPTH:
            shown = path if len(path) <= 120 else path[:117] + "..."
            raise _rule_error([(shown, f"nesting deeper than {MAX_DEPTH} levels")])
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise _rule_error([(path, f"keys must be text; got {_show(key)}")])
                stack.append((item, f"{path}.{key[:40]}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str) and len(value) > MAX_STRING:
            raise _rule_error([(path, f"text longer than {MAX_STRING} characters")])


def _from_pydantic(exc: ValidationError) -> RuleError:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        path = "rule"
        for part in error["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif part not in _SKIPPED and not str(part).startswith(("function-", "list[")):
                path += f".{part}"
        errors.setdefault(path, _message(error))  # one line per path, not one per union member
    return _rule_error(list(errors.items()))


def _message(error: Any) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "extra_forbidden":
        return "unexpected key"
    if kind == "literal_error":
        return f"unknown operator {_show(given)}; expected {error['ctx']['expected']}"
    if kind == "missing":
        return "required"
    if kind.endswith("_type") or kind.startswith("union"):
        return f"wrong type: got {_show(given)}"
    if kind == "finite_number":
        return "numbers must be finite"
    return str(error["msg"])


def _rule_error(errors: list[tuple[str, str]]) -> RuleError:
    first_path, first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return RuleError(
        f"{first_path}: {first}{more}",
        detail={"errors": [{"path": p, "message": m} for p, m in errors]},
    )


# --- words ------------------------------------------------------------------------------------


def describe(node: Condition) -> str:
    """A rule part in words, for match reasons: ``count of events where kind = 'x' ... >= 4``."""
    if isinstance(node, All | AnyOf):
        word, parts = (" and ", node.all) if isinstance(node, All) else (" or ", node.any)
        return "(" + word.join(describe(part) for part in parts) + ")"
    if isinstance(node, Not):
        return f"not {describe(node.not_)}"
    if isinstance(node, Compare):
        if node.op in SET_OPS:
            return f"{node.field} {node.op}"
        shown = (
            "(" + ", ".join(repr(v) for v in node.value) + ")"
            if isinstance(node.value, list)
            else repr(node.value)
        )
        return f"{node.field} {node.op} {shown}"
    key, spec = _spec(node)
    if isinstance(spec, ShareSpec):
        of = f" of events where {describe(spec.of)}" if spec.of is not None else " of events"
        what = f"share{of} with {describe(spec.where)}"
    else:
        what = f"{key} of {spec.field}" if isinstance(spec, FieldSpec) else "count"
        what += f" of events where {describe(spec.where)}" if spec.where is not None else ""
    return f"{what} in the last {_window_words(spec.within)} {node.op} {node.value!r}"


def _window_words(window: Window) -> str:
    parts = [(window.days, "day"), (window.hours, "hour"), (window.minutes, "minute")]
    return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)


def aggregate_spec(node: Aggregate) -> tuple[str, CountSpec | FieldSpec | ShareSpec]:
    """``("count" | "sum" | "distinct" | "share", spec)`` of an aggregate node."""
    return _spec(node)
