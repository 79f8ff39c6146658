"""A small simulated shop, generated once per test session and shared read-only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shopkeeper.simulator.shop import ShopSimulation, SimulationConfig


@dataclass(frozen=True)
class Simulated:
    sim: ShopSimulation
    events: list[dict[str, Any]]
    truth: dict[str, Any]

    def persona_of(self) -> dict[str, str]:
        """Every identifier a customer's events can carry -> that customer's persona."""
        out: dict[str, str] = {}
        for row in self.truth["customers"]:
            for key in [row["user_id"], row["loyalty_id"], *row["anonymous_ids"]]:
                if key:
                    out[key] = row["persona"]
        return out


def simulate(customers: int, days: int, seed: int) -> Simulated:
    sim = ShopSimulation(SimulationConfig(customers=customers, days=days, seed=seed))
    events = list(sim.events())
    return Simulated(sim, events, sim.truth())


@pytest.fixture(scope="session")
def small() -> Simulated:
    """200 customers over 60 days: enough for shape checks."""
    return simulate(200, 60, seed=11)


@pytest.fixture(scope="session")
def season() -> Simulated:
    """600 customers over 120 days from 1 November: enough orders to compare personas."""
    return simulate(600, 120, seed=5)
