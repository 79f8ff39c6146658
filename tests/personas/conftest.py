"""Persona fixtures: simulated shops in the store, with ground truth per store customer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.simulator.commands import simulate_to_store, truth_of_customers


@dataclass
class SimulatedShop:
    shop: Shopkeeper
    truth: dict[str, str]  # live store customer id -> planted persona


def simulate(
    shop: Shopkeeper, tmp_path: Path, customers: int, days: int, seed: int
) -> SimulatedShop:
    """Load a simulated shop; map every live store customer to its planted persona.

    A store customer is a profile (a userId, a device's anonymousId, a loyalty card, or
    several merged); its persona is that of the simulated person its identities belong to.
    """
    truth_path = tmp_path / "truth.json"
    summary = simulate_to_store(shop, customers, days, seed, truth_path)
    assert summary.rejected == 0
    people = json.loads(truth_path.read_text())["customers"]
    truth = {cid: row["persona"] for cid, row in truth_of_customers(shop, people).items()}
    return SimulatedShop(shop, truth)


@pytest.fixture
def small_shop(shop: Shopkeeper, tmp_path: Path) -> SimulatedShop:
    """80 simulated customers over 60 days: enough to fit three personas, quick to load."""
    return simulate(shop, tmp_path, customers=80, days=60, seed=3)
