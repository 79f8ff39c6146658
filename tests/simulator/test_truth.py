"""Ground truth: complete per customer, and consistent with what was simulated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

from shopkeeper.simulator.catalog import LEAVES
from shopkeeper.simulator.personas import PERSONA_NAMES
from shopkeeper.simulator.shop import ShopSimulation, SimulationConfig
from shopkeeper.simulator.truth import expected_annual_value, write_truth
from tests.simulator.conftest import Simulated


def test_every_customer_has_persona_preferences_and_value(small: Simulated) -> None:
    rows = small.truth["customers"]
    assert len(rows) == 200
    assert {r["persona"] for r in rows} == set(PERSONA_NAMES)
    for r in rows:
        assert r["user_id"]
        assert r["anonymous_ids"]
        assert abs(sum(r["preferences"]["categories"].values()) - 1) < 0.01
        assert set(r["preferences"]["categories"]) == set(LEAVES)
        assert abs(sum(r["preferences"]["tiers"].values()) - 1) < 0.01
        assert r["expected_future_value"] >= 0
        assert r["frequency"] > 0
    assert 0 < sum(r["influencer"] for r in rows) < 40
    assert small.truth["seed"] == 11
    assert small.truth["parameters"]["customers"] == 200


def test_observed_orders_match_the_stream(small: Simulated) -> None:
    ids = {}
    for r in small.truth["customers"]:
        for key in (r["user_id"], r["loyalty_id"]):
            if key:
                ids[key] = r["user_id"]
    counted: dict[str, int] = {}
    for e in small.events:
        if e.get("event") == "Order Completed":
            who = ids[e["userId"]]
            counted[who] = counted.get(who, 0) + 1
    for r in small.truth["customers"]:
        assert r["observed"]["orders"] == counted.get(r["user_id"], 0)


def test_write_truth_as_file_or_directory(small: Simulated, tmp_path: Path) -> None:
    [one] = write_truth(small.truth, tmp_path / "t.json")
    assert orjson.loads(one.read_bytes())["customers"][0]["user_id"] == "C100000"
    meta, rows = write_truth(small.truth, tmp_path / "dir")
    assert "customers" not in orjson.loads(meta.read_bytes())
    assert len(rows.read_bytes().splitlines()) == 200


def test_expected_value_follows_the_frequency_multiplier() -> None:
    sim = ShopSimulation(SimulationConfig(customers=300, days=60, seed=3))
    pop = sim.population
    pop.consent_email[:] = False  # no newsletter sessions: value is proportional to frequency
    base = expected_annual_value(sim)
    assert (base > 0).sum() > 100
    pop.frequency *= 2
    np.testing.assert_allclose(expected_annual_value(sim), 2 * base, atol=0.011)
