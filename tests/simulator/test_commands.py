"""``shopkeeper simulate`` and ``simulate_to_store``: the store gets the shop, truth stays apart."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shopkeeper import cli
from shopkeeper.application import Shopkeeper
from shopkeeper.models.catalog import Product
from shopkeeper.simulator.commands import simulate_to_store


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["shopkeeper", "simulate", *args])
    try:
        cli.main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def test_cli_writes_jsonl_and_truth_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "events.jsonl"
    code = _cli(monkeypatch, "--customers", "60", "--days", "20", "--seed", "4", "--out", str(out))
    assert code == 0
    lines = out.read_bytes().splitlines()
    assert len(lines) > 100
    assert json.loads(lines[0])["messageId"] == "sim-4-0"
    truth = tmp_path / "data" / "simulation-truth"
    assert json.loads((truth / "truth.json").read_text())["seed"] == 4
    assert len((truth / "customers.jsonl").read_text().splitlines()) == 60
    assert "events" in capsys.readouterr().out


def test_cli_truth_can_be_one_json_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    truth = tmp_path / "truth.json"
    code = _cli(
        monkeypatch,
        "--customers",
        "20",
        "--days",
        "40",
        "--out",
        str(tmp_path / "e.jsonl"),
        "--truth",
        str(truth),
    )
    assert code == 0
    data = json.loads(truth.read_text())
    assert len(data["customers"]) == 20
    assert {e["name"] for e in data["planted_effects"]} >= {"weekly_rhythm", "black_friday"}


def test_cli_refuses_a_bad_start_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _cli(
        monkeypatch, "--days", "5", "--start", "yesterday", "--out", str(tmp_path / "e.jsonl")
    )
    assert code == 2


def test_simulate_to_store_loads_catalog_and_events(shop: Shopkeeper, tmp_path: Path) -> None:
    summary = simulate_to_store(shop, 40, 15, 3, tmp_path / "truth")
    assert summary.events > 50
    assert summary.rejected == 0, summary.first_errors
    assert summary.accepted == summary.events
    with shop.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Product)) >= summary.products
    again = simulate_to_store(shop, 40, 15, 3, tmp_path / "truth")
    assert again.duplicates == again.events  # same seed, same messageIds: nothing new
    assert (tmp_path / "truth" / "customers.jsonl").exists()


def test_a_parallel_load_stores_the_same_shop(shop: Shopkeeper, tmp_path: Path) -> None:
    """Generator, appends and projector in three processes: the same events, the same facts
    and the same truth as the load in one thread (both stores: the children reopen them)."""
    from shopkeeper.models import Customer, Event, Order

    def counts() -> tuple[int, ...]:
        with shop.db.sessions() as session:
            return tuple(
                int(session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Event, Customer, Order, Product)
            )

    parallel = simulate_to_store(shop, 40, 15, 3, tmp_path / "p", parallel=True)
    assert parallel.accepted == parallel.events > 50
    after_parallel = counts()
    serial = simulate_to_store(shop, 40, 15, 3, tmp_path / "s")  # replay: all duplicates
    assert serial.duplicates == serial.events == parallel.events
    assert counts() == after_parallel
    for name in ("customers.jsonl",):
        assert (tmp_path / "p" / name).read_bytes() == (tmp_path / "s" / name).read_bytes()
