"""``shopkeeper quality``: the Rich scorecard and ``--json``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from shopkeeper.application import Shopkeeper
from shopkeeper.cli import _load, app, console

from .conftest import Expected


@pytest.fixture
def cli(shop: Shopkeeper, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(shop.settings.data_dir))
    monkeypatch.setenv("SHOPKEEPER_DATABASE_URL", shop.settings.resolved_database_url)
    monkeypatch.setenv("COLUMNS", "240")
    # The CLI's console may have been built by another test before COLUMNS was set.
    monkeypatch.setattr(console, "width", 240)
    _load()
    return CliRunner()


def test_scorecard_tables(cli: CliRunner, planted: Expected) -> None:
    result = cli.invoke(app, ["quality"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Data quality: overall" in out
    for dimension in ("completeness", "validity", "uniqueness", "timeliness", "consistency"):
        assert dimension in out
    assert "orders.customer_missing" in out
    assert "1 / 8 rows (12.5%)" in out
    assert "o3" in out
    assert "anomaly –: no findings" in out


def test_json_for_one_table(cli: CliRunner, planted: Expected) -> None:
    result = cli.invoke(app, ["quality", "--json", "--table", "orders"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["table"] == "orders"
    assert {f["table"] for f in body["findings"]} == {"orders"}


def test_unknown_table_is_an_error(cli: CliRunner, shop: Shopkeeper) -> None:
    result = cli.invoke(app, ["quality", "--table", "nope"])
    assert result.exit_code != 0
