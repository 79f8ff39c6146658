"""Persona fixtures: simulated shops in the store, with ground truth per store customer."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from shopkeeper.application import Shopkeeper
from shopkeeper.models import Customer, Identity
from shopkeeper.simulator.commands import simulate_to_store


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
    persona_of: dict[str, str] = {}
    for person in json.loads(truth_path.read_text())["customers"]:
        for value in [person["user_id"], *person["anonymous_ids"], person["loyalty_id"]]:
            if value:
                persona_of[value] = person["persona"]
    found: defaultdict[str, set[str]] = defaultdict(set)
    with shop.db.sessions() as session:
        rows = session.execute(
            select(Identity.customer_id, Identity.value, Customer.merged_into_id).join(
                Customer, Customer.id == Identity.customer_id
            )
        )
        for customer_id, value, merged_into in rows:
            if value in persona_of:
                found[merged_into or customer_id].add(persona_of[value])
    truth = {cid: personas.pop() for cid, personas in found.items() if len(personas) == 1}
    return SimulatedShop(shop, truth)


@pytest.fixture
def small_shop(shop: Shopkeeper, tmp_path: Path) -> SimulatedShop:
    """80 simulated customers over 60 days: enough to fit three personas, quick to load."""
    return simulate(shop, tmp_path, customers=80, days=60, seed=3)
