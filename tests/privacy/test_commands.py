"""``shopkeeper customers export|erase`` against the store under test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopkeeper.application import Shopkeeper
from shopkeeper.cli import _load, app


@pytest.fixture
def cli(shop: Shopkeeper, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(shop.settings.data_dir))
    monkeypatch.setenv("SHOPKEEPER_DATABASE_URL", shop.settings.resolved_database_url)
    _load()
    return CliRunner()


def test_export_to_file(cli: CliRunner, people: Any, tmp_path: Path) -> None:
    out = tmp_path / "alice.json"
    result = cli.invoke(app, ["customers", "export", people.email, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["customer_id"] == people.customer_id


def test_export_to_stdout(cli: CliRunner, people: Any) -> None:
    result = cli.invoke(app, ["customers", "export", people.customer_id])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["events"]) == 6


def test_erase_needs_yes(cli: CliRunner, people: Any) -> None:
    refused = cli.invoke(app, ["customers", "erase", people.user_id])
    assert refused.exit_code == 1
    erased = cli.invoke(app, ["customers", "erase", people.user_id, "--yes"])
    assert erased.exit_code == 0, erased.output
    assert "customers 2" in erased.output
