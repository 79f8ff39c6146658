"""Batch and real-time profile facts agree, so stored memberships and the reasons of
``GET /v1/customers/{id}/segments`` mean the same thing (on a small simulated shop)."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.segments.fields import PROFILE_FIELDS
from shopkeeper.simulator.commands import simulate_to_store

AFFINITIES = [
    "affinity.category.kids",
    "affinity.category.women",
    "affinity.brand.acme",
    "affinity.price_tier.premium",
    "affinity.price_tier.budget",
]
#: Fields whose batch and real-time values are defined alike (RFM/CLV need a write-back).
COMPARED = [f.name for f in PROFILE_FIELDS if not f.name.startswith(("rfm_", "clv", "p_alive"))]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-4)
    return bool(a == b)


@pytest.mark.parametrize("backend", ["sqlite"])  # the store is the same on both; maths here
def test_batch_and_real_time_facts_agree_on_a_simulated_shop(
    shop: Shopkeeper, clock: FixedClock, tmp_path: Path
) -> None:
    start = (clock.now() - timedelta(days=40)).date()
    simulate_to_store(shop, 70, 35, 11, tmp_path / "truth", start=start)
    with shop.db.sessions() as s:
        table = shop.segments.batch_facts(s, AFFINITIES).to_pylist()
        assert len(table) >= 40
        differences = []
        for row in table:
            facts, _ = shop.segments.facts_of(s, row["customer_id"])
            for name in COMPARED + AFFINITIES:
                batch, live = row.get(name), facts.values.get(name)
                if not (batch is None and live is None) and not same(batch, live):
                    differences.append((row["customer_id"], name, batch, live))
    assert differences == []
    tenures = {row["tenure"] for row in table}
    assert len(tenures) >= 2  # the shop is varied enough for the comparison to mean something
    assert any(row["affinity.category.kids"] is not None for row in table)
