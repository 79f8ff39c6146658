"""Same seed, same bytes: the simulator is a pure function of its parameters."""

from __future__ import annotations

from pathlib import Path

from shopkeeper.simulator.commands import simulate_to_file
from shopkeeper.simulator.shop import ShopSimulation, SimulationConfig


def _jsonl(tmp_path: Path, name: str, seed: int) -> bytes:
    sim = ShopSimulation(SimulationConfig(customers=200, days=60, seed=seed))
    out = tmp_path / f"{name}.jsonl"
    summary = simulate_to_file(sim, out, tmp_path / f"{name}-truth")
    assert summary.events > 1000
    return out.read_bytes()


def test_same_seed_gives_byte_identical_output(tmp_path: Path) -> None:
    first = _jsonl(tmp_path, "a", seed=42)
    assert _jsonl(tmp_path, "b", seed=42) == first
    assert (tmp_path / "a-truth" / "customers.jsonl").read_bytes() == (
        tmp_path / "b-truth" / "customers.jsonl"
    ).read_bytes()


def test_another_seed_gives_another_shop(tmp_path: Path) -> None:
    assert _jsonl(tmp_path, "a", seed=42) != _jsonl(tmp_path, "c", seed=43)
