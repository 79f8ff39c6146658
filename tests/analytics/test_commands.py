"""``shopkeeper rfm | clv | kpis | cohorts | high-value | advocates``: tables, ``--json`` and
``--svg``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopkeeper.application import Shopkeeper
from shopkeeper.cli import _load, app, console


@pytest.fixture
def cli(shop: Shopkeeper, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(shop.settings.data_dir))
    monkeypatch.setenv("SHOPKEEPER_DATABASE_URL", shop.settings.resolved_database_url)
    monkeypatch.setattr(console, "width", 240)
    _load()
    return CliRunner()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_rfm_table_json_svg_and_write_back(
    cli: CliRunner, shop: Shopkeeper, store: Any, tmp_path: Path
) -> None:
    svg = tmp_path / "rfm.svg"
    args = ["rfm", "--reference-date", "2026-11-01", "--svg", str(svg), "--write-back"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Champions" in result.output
    assert "scored 6 customers: 6 changed and written, 0 unchanged, 0 removed" in result.output
    assert ET.fromstring(svg.read_text()).tag.endswith("svg")  # well-formed
    with shop.db.sessions() as session:
        assert shop.analytics.score_of(session, "u1") is not None
    as_json = cli.invoke(app, ["rfm", "--reference-date", "2026-11-01", "--json"])
    assert json.loads(as_json.output)["reference_date"] == "2026-11-01"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_kpis_and_cohorts(cli: CliRunner, store: Any, tmp_path: Path) -> None:
    trend = tmp_path / "kpis.svg"
    args = ["kpis", "--grain", "month", "--by", "channel", "--svg", str(trend), "--metric", "aov"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2026-10-01" in result.output
    assert "(leading)" in result.output
    assert ET.fromstring(trend.read_text()).find("{http://www.w3.org/2000/svg}polyline") is not None
    assert "aov by month" in trend.read_text()
    unknown = cli.invoke(app, ["kpis", "--svg", str(trend), "--metric", "nope"])
    assert unknown.exit_code != 0
    svg = tmp_path / "cohorts.svg"
    cohorts = cli.invoke(app, ["cohorts", "--svg", str(svg)])
    assert cohorts.exit_code == 0, cohorts.output
    assert "2026-09" in cohorts.output
    assert "50%" in cohorts.output
    assert "50%" in svg.read_text()
    ET.fromstring(svg.read_text())
    as_json = cli.invoke(app, ["cohorts", "--json"])
    assert json.loads(as_json.output)["sizes"] == [1, 1, 1, 2, 1]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_clv_without_repeat_customers_is_an_error(cli: CliRunner) -> None:
    result = cli.invoke(app, ["clv"])
    assert result.exit_code != 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_high_value_and_advocates(run: Callable[..., tuple[int, str, str]], store: Any) -> None:
    code, out, err = run("high-value", "--reference-date", "2026-11-01", "--limit", "2")
    assert code == 0, err
    assert "high-value customers on 2026-11-01: 1–2 of 4" in out
    assert store["u4"] in out
    assert store["u1"] not in out  # third by spend: past the limit
    code, out, err = run("advocates", "--reference-date", "2026-11-01", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert (body["name"], body["total"]) == ("advocates", 1)
    assert body["customers"][0]["customer_id"] == store["u1"]
    code, out, _ = run("advocates", "--reference-date", "2026-11-01")
    assert "advocate candidates on 2026-11-01: 1–1 of 1" in out
    code, _, err = run("advocates", "--offset", "-1")
    assert code != 0
    assert "--offset" in err


def test_every_needs_write_back(run: Callable[..., tuple[int, str, str]]) -> None:
    code, _out, err = run("rfm", "--every", "5")
    assert code == 2
    assert "--every schedules the write-back" in err
