"""One meaning, two evaluators: real time (pure Python) and batch (Ibis on DuckDB) agree.

Two property tests, 2,000 random rules in all (about 40 s on a busy 2-core machine):

* ``test_one_rule_at_a_time``: 1,000 examples, each one random rule (depth ≤ 4) against one of
  a few seeded 30-customer populations registered once in one DuckDB connection.
* ``test_many_rules_per_population``: a fresh population per example (from a drawn seed: a
  population costs hundreds of random draws, too much entropy to draw value by value), and
  10 rules per example go through ``membership`` as one query — the multi-rule path the
  batch jobs use.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend

from shopkeeper.segments.batch import BatchEvaluator
from shopkeeper.segments.realtime import compile_rule
from shopkeeper.segments.rules import Condition, parse_rule
from tests.segments.strategies import RULES, Population, population, registry_types_agree

POPULATIONS = 6


@pytest.fixture(scope="module")
def con() -> Iterator[BaseBackend]:
    connection = ibis.duckdb.connect()
    yield connection
    connection.disconnect()


@pytest.fixture(scope="module")
def shops(con: BaseBackend) -> list[tuple[Population, BatchEvaluator]]:
    found = []
    for i in range(POPULATIONS):
        shop = population(random.Random(i))
        customers = con.create_table(f"customers_{i}", shop.customers_table())
        events = con.create_table(f"events_{i}", shop.events_table())
        found.append((shop, BatchEvaluator(customers, events)))
    return found


def realtime_members(rule: Condition, shop: Population) -> set[str]:
    compiled = compile_rule(rule)
    return {
        cid
        for cid, profile in shop.profiles.items()
        if compiled.matches(profile, shop.events[cid], shop.now)
    }


def test_vocabularies_use_registered_types() -> None:
    assert registry_types_agree()


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=RULES, which=st.integers(0, POPULATIONS - 1))
def test_one_rule_at_a_time(
    shops: list[tuple[Population, BatchEvaluator]], raw: dict[str, Any], which: int
) -> None:
    rule = parse_rule(raw)
    shop, batch = shops[which]
    assert batch.members(rule, shop.now) == realtime_members(rule, shop), raw


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(seed=st.integers(0, 2**32), raws=st.lists(RULES, min_size=10, max_size=10))
def test_many_rules_per_population(con: BaseBackend, seed: int, raws: list[dict[str, Any]]) -> None:
    shop = population(random.Random(seed))
    customers = con.create_table("customers_x", shop.customers_table(), overwrite=True)
    events = con.create_table("events_x", shop.events_table(), overwrite=True)
    rules = [parse_rule(raw) for raw in raws]
    table = BatchEvaluator(customers, events).membership(rules, shop.now).to_pyarrow()
    ids = table.column("customer_id").to_pylist()
    for i, (raw, rule) in enumerate(zip(raws, rules, strict=True)):
        flags = table.column(f"rule_{i}").to_pylist()
        batch = {cid for cid, flag in zip(ids, flags, strict=True) if flag}
        assert batch == realtime_members(rule, shop), raw
