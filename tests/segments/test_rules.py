"""Rule validation: the issue's examples load; malformed and hostile rules fail at their path."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shopkeeper.errors import Invalid
from shopkeeper.segments.fields import Field, default_registry
from shopkeeper.segments.rules import (
    All,
    Compare,
    RuleError,
    describe,
    dump_rule,
    parse_json,
    parse_rule,
    parse_yaml,
)
from tests.segments.examples import FIRST_VISIT_PAID_SOCIAL, LAPSED_LOYAL, TODDLER_PREMIUM

YAML = """
all:
  - count: {where: {field: kind, op: "=", value: order_completed}, within: {days: 90}}
    op: "="
    value: 0
  - field: rfm_segment
    op: in
    value: [Loyal, Champions]
"""


def error_of(data: Any) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse_rule(data)
    return caught.value


def text_error(parse: Callable[[str], object], text: str) -> str:
    with pytest.raises(RuleError) as caught:
        parse(text)
    return caught.value.message


@pytest.mark.parametrize("rule", [TODDLER_PREMIUM, LAPSED_LOYAL, FIRST_VISIT_PAID_SOCIAL])
def test_the_issues_examples_load_and_round_trip(rule: dict[str, Any]) -> None:
    parsed = parse_rule(rule)
    assert parse_rule(dump_rule(parsed)) == parsed
    assert parse_json(json.dumps(rule)) == parsed


def test_yaml_and_python_build_the_same_rule() -> None:
    assert parse_yaml(YAML) == parse_rule(LAPSED_LOYAL)
    built = All(
        all=[
            Compare(field="first_visit", op="=", value=True),
            Compare(field="source", op="=", value="paid_social"),
        ]
    )
    assert parse_rule(built) == parse_rule(FIRST_VISIT_PAID_SOCIAL)


def test_describe_reads_like_the_rule() -> None:
    text = describe(parse_rule(TODDLER_PREMIUM))
    assert "count of events where (kind = 'product_viewed' and category under" in text
    assert "in the last 14 days >= 4" in text


def test_rule_errors_are_invalid_422_with_every_problem_listed() -> None:
    error = error_of(
        {
            "all": [
                {"field": "revnue", "op": ">", "value": 1},
                {"field": "orders", "op": ">", "value": "x"},
            ]
        }
    )
    assert isinstance(error, Invalid)
    assert error.status_code == 422
    assert [e["path"] for e in error.detail["errors"]] == ["rule.all[0].field", "rule.all[1].value"]
    assert error.message.startswith("rule.all[0].field: unknown field 'revnue'")
    assert "did you mean 'revenue'" in error.message


@pytest.mark.parametrize(
    ("rule", "path", "words"),
    [
        # unknown fields, in both scopes, with a hint
        (
            {
                "all": [
                    {"field": "revenue", "op": ">", "value": 1},
                    {"field": "orders", "op": ">", "value": 1},
                    {
                        "count": {
                            "where": {"field": "categroy", "op": "=", "value": "kids"},
                            "within": {"days": 14},
                        },
                        "op": ">=",
                        "value": 4,
                    },
                ]
            },
            "rule.all[2].count.where.field",
            "unknown event field 'categroy' (did you mean 'category'?)",
        ),
        ({"field": "kind", "op": "=", "value": "x"}, "rule.field", "is an event field"),
        (
            {
                "count": {
                    "where": {"field": "revenue", "op": ">", "value": 1},
                    "within": {"days": 1},
                },
                "op": ">",
                "value": 0,
            },
            "rule.count.where.field",
            "is a profile field",
        ),
        ({"field": 'affinity.brand.a"b', "op": ">", "value": 0.1}, "rule.field", "unknown field"),
        # wrong types for the field
        ({"field": "revenue", "op": ">", "value": "abc"}, "rule.value", "is a number; got 'abc'"),
        ({"field": "revenue", "op": "=", "value": True}, "rule.value", "is a number; got True"),
        ({"field": "source", "op": "in", "value": ["a", 3]}, "rule.value[1]", "is text; got 3"),
        ({"field": "first_visit", "op": "=", "value": "yes"}, "rule.value", "true or false"),
        ({"field": "source", "op": ">", "value": "a"}, "rule.op", "cannot be used with string"),
        ({"field": "revenue", "op": "under", "value": "a"}, "rule.op", "cannot be used"),
        ({"field": "revenue", "op": ">", "value": {"$gt": 1}}, "rule.value", "wrong type"),
        ({"field": "revenue", "op": ">", "value": 1e300}, "rule.value", "out of range"),
        ({"field": "source", "op": "is set", "value": "a"}, "rule.value", "takes no value"),
        ({"field": "source", "op": "in", "value": "a"}, "rule.value", "needs a list"),
        ({"field": "source", "op": "in", "value": []}, "rule.value", "empty"),
        ({"field": "source", "op": "=", "value": ["a"]}, "rule.value", "needs one value"),
        (
            {"sum": {"field": "brand", "within": {"days": 1}}, "op": ">", "value": 1},
            "rule.sum.field",
            "sum needs a number field",
        ),
        # unknown operators and keys
        ({"field": "revenue", "op": "==", "value": 1}, "rule.op", "unknown operator '=='"),
        ({"field": "revenue", "op": "; DROP TABLE x", "value": 1}, "rule.op", "unknown operator"),
        (
            {"count": {"within": {"days": 1}}, "op": "in", "value": 1},
            "rule.op",
            "unknown operator 'in'",
        ),
        ({"all": [{"fields": "revenue"}]}, "rule.all[0]", "not a rule"),
        (
            {"all": [{"field": "revenue", "op": ">", "value": 1, "sql": "1=1"}]},
            "rule.all[0].sql",
            "unexpected key",
        ),
        ({"all": [{"field": "revenue", "value": 1}]}, "rule.all[0].op", "required"),
        ({"all": []}, "rule.all", "at least one part"),
        ("revenue > 1", "rule", "not a rule"),
        # aggregates where they do not belong, windows
        (
            {
                "count": {
                    "where": {"count": {"within": {"days": 1}}, "op": ">", "value": 1},
                    "within": {"days": 1},
                },
                "op": ">",
                "value": 0,
            },
            "rule.count.where",
            "cannot be nested inside an event filter",
        ),
        (
            {"count": {"within": {"days": 5 * 365 + 2}}, "op": ">", "value": 0},
            "rule.count.within",
            "may not exceed 5 years",
        ),
        ({"count": {"within": {}}, "op": ">", "value": 0}, "rule.count.within", "positive"),
        (
            {"count": {"within": {"days": 2, "hours": -49}}, "op": ">", "value": 0},
            "rule.count.within",
            "positive",
        ),
        (
            {"count": {"within": {"weeks": 2}}, "op": ">", "value": 0},
            "rule.count.within.weeks",
            "unexpected key",
        ),
        (
            {"field": "category", "op": "under", "value": "kids/"},
            "rule.field",  # category is an event field: the profile scope refuses it first
            "is an event field",
        ),
        (
            {
                "count": {
                    "where": {"field": "category", "op": "under", "value": "/kids"},
                    "within": {"days": 1},
                },
                "op": ">",
                "value": 0,
            },
            "rule.count.where.value",
            "no leading or trailing '/'",
        ),
    ],
)
def test_bad_rules_name_the_offending_part(rule: Any, path: str, words: str) -> None:
    error = error_of(rule)
    first = error.detail["errors"][0]
    assert first["path"] == path, error.message
    assert words in first["message"], error.message


def test_limits_on_size_and_nesting() -> None:
    leaf = {"field": "revenue", "op": ">", "value": 1}
    deep: dict[str, Any] = leaf
    for _ in range(12):
        deep = {"not": deep}
    error = error_of(deep)
    assert error.detail["errors"][0]["path"] == "rule" + ".not" * 12
    assert "deeper than 12" in error.message
    wide = {"any": [leaf] * 200}
    assert "more than 200 parts" in error_of(wide).message
    huge_in = {"field": "source", "op": "in", "value": ["a"] * 1001}
    assert error_of(huge_in).message == "rule.value: more than 1000 values"
    long_text = {"field": "source", "op": "=", "value": "a" * 1001}
    assert error_of(long_text).message == "rule.value: text longer than 1000 characters"


def test_nesting_bombs_are_refused_before_any_model_is_built() -> None:
    bomb: Any = {"field": "revenue", "op": ">", "value": 1}
    for _ in range(100_000):  # far past Python's recursion limit
        bomb = {"not": bomb}
    error = error_of(bomb)
    assert "deeper than 12" in error.message
    text = '{"not": ' * 100_000 + "{}" + "}" * 100_000
    assert "rule" in text_error(parse_json, text)
    wide = {"any": [{"field": "source", "op": "in", "value": ["a"] * 1000}] * 60}
    assert "values" in error_of(wide).message


def test_yaml_alias_bombs_and_tags_are_refused() -> None:
    lol = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    assert "more than" in text_error(parse_yaml, lol)
    tagged = "!!python/object/apply:os.system ['true']"
    assert "not valid YAML" in text_error(parse_yaml, tagged)
    assert "NaN" in text_error(parse_json, '{"field": "revenue", "op": ">", "value": NaN}')


def test_new_traits_plug_in_by_registering_a_field() -> None:
    rule = {"field": "churn_risk", "op": ">", "value": 0.8}
    assert "unknown field 'churn_risk'" in error_of(rule).message
    registry = default_registry()
    registry.register(Field("churn_risk", "number", "profile", "Predicted churn."))
    assert parse_rule(rule, registry) == Compare(field="churn_risk", op=">", value=0.8)


def test_affinity_families_accept_any_name() -> None:
    parse_rule({"field": "affinity.category.kids", "op": ">=", "value": 0.3})
    parse_rule({"field": "affinity.brand.Hello Kitty", "op": ">=", "value": 0.3})
    assert (
        "unknown field" in error_of({"field": "affinity.colour.red", "op": ">", "value": 0}).message
    )
