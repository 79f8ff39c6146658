"""Batch evaluator on DuckDB: known answers, hostile values stay values, one scan for many rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import ibis
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from shopkeeper.segments.batch import BatchEvaluator
from shopkeeper.segments.rules import parse_rule
from tests.segments.examples import LAPSED_LOYAL, TODDLER_PREMIUM

NOW = datetime(2026, 3, 1, 12, 0, 0, 500_000)
HOSTILE = "x'; DROP TABLE customers; --"


@pytest.fixture
def con() -> Iterator[BaseBackend]:
    connection = ibis.duckdb.connect()
    yield connection
    connection.disconnect()


def shop(con: BaseBackend, *, aware: bool = False) -> BatchEvaluator:
    customers = pa.table(
        {
            "customer_id": ["premium", "budget", "lapsed", "quiet", "hostile"],
            "rfm_segment": ["At risk", None, "Loyal", "Champions", None],
            "source": ["paid_social", "direct", None, "direct", HOSTILE],
            "affinity.category.kids": [0.6, 0.2, None, None, None],
        }
    )
    rows: list[tuple[str, timedelta, str, str | None, str | None]] = [
        ("premium", timedelta(days=d), "product_viewed", "kids/toddler/shoes", tier)
        for d, tier in [(1, "premium"), (2, "budget"), (3, "premium"), (14, "premium")]
    ]
    rows += [("premium", timedelta(days=13, hours=23), "product_viewed", "kids/toddler", "mid")]
    rows += [
        ("budget", timedelta(days=d), "product_viewed", "kids/toddler", "budget")
        for d in range(1, 6)
    ]
    rows += [("lapsed", timedelta(days=120), "order_completed", None, None)]
    rows += [("quiet", timedelta(days=10), "order_completed", None, None)]
    now = NOW.replace(tzinfo=UTC) if aware else NOW
    events = pa.table(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": pa.array(
                [now - r[1] for r in rows], pa.timestamp("us", "UTC" if aware else None)
            ),
            "kind": [r[2] for r in rows],
            "category": [r[3] for r in rows],
            "price_tier": [r[4] for r in rows],
        }
    )
    return BatchEvaluator(
        con.create_table("customers", customers, overwrite=True),
        con.create_table("events", events, overwrite=True),
    )


def test_the_issues_examples(con: BaseBackend) -> None:
    batch = shop(con)
    assert batch.members(parse_rule(TODDLER_PREMIUM), NOW) == {"premium"}
    assert batch.members(parse_rule(LAPSED_LOYAL), NOW) == {"lapsed"}


def test_hostile_values_are_just_strings(con: BaseBackend) -> None:
    batch = shop(con)
    rule = parse_rule({"field": "source", "op": "=", "value": HOSTILE})
    assert batch.members(rule, NOW) == {"hostile"}  # the one customer whose source is that text
    other = parse_rule({"field": "rfm_segment", "op": "in", "value": [HOSTILE, "'; --", '"']})
    assert batch.members(other, NOW) == set()
    wild = parse_rule({"field": "source", "op": "contains", "value": "%"})
    assert batch.members(wild, NOW) == set()  # no LIKE wildcards either
    assert con.table("customers").count().execute() == 5  # still there


def test_field_names_with_dots_and_fields_without_a_column(con: BaseBackend) -> None:
    batch = shop(con)
    kids = parse_rule({"field": "affinity.category.kids", "op": ">=", "value": 0.5})
    assert batch.members(kids, NOW) == {"premium"}
    unknown_brand = {"field": "affinity.brand.acme", "op": "!=", "value": 0}
    assert batch.members(parse_rule(unknown_brand), NOW) == set()
    everyone = {"premium", "budget", "lapsed", "quiet", "hostile"}
    assert batch.members(parse_rule({"not": unknown_brand}), NOW) == everyone


def test_timezone_aware_events_and_now(con: BaseBackend) -> None:
    batch = shop(con, aware=True)
    rule = parse_rule(TODDLER_PREMIUM)
    assert batch.members(rule, NOW.replace(tzinfo=UTC)) == {"premium"}
    assert batch.members(rule, NOW) == {"premium"}  # naive now is read as UTC


def test_membership_many_rules_one_expression(con: BaseBackend) -> None:
    batch = shop(con)
    views = {"count": {"within": {"days": 14}}, "op": ">=", "value": 5}
    fewer = {"count": {"within": {"days": 14}}, "op": "<", "value": 5}
    table = batch.membership([parse_rule(views), parse_rule(fewer)], NOW)
    sql = ibis.to_sql(table, dialect="duckdb")
    assert sql.count("COUNT(") == 1  # the same measure, computed once for both rules
    rows = {r["customer_id"]: (r["rule_0"], r["rule_1"]) for r in table.to_pyarrow().to_pylist()}
    assert rows["budget"] == (True, False)
    assert rows["hostile"] == (False, True)  # no events: a count of 0
