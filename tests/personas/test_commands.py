"""``shopkeeper personas [show|members|save]``: cards, JSON, SVG, and clear errors."""

from __future__ import annotations

import importlib.util
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopkeeper.cli import _load, app, console
from shopkeeper.errors import Unavailable
from tests.personas.conftest import SimulatedShop


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_fit_show_members_and_save(
    small_shop: SimulatedShop, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shop = small_shop.shop
    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(shop.settings.data_dir))
    monkeypatch.setenv("SHOPKEEPER_DATABASE_URL", shop.settings.resolved_database_url)
    monkeypatch.setattr(console, "width", 200)
    _load()
    cli = CliRunner()

    none_yet = cli.invoke(app, ["personas", "show"])
    assert none_yet.exit_code != 0

    svg = tmp_path / "personas.svg"
    args = ["personas", "--k", "3", "--method", "kmeans", "--min-sessions", "2"]
    fitted = cli.invoke(app, [*args, "--bootstrap", "1", "--svg", str(svg)])
    assert fitted.exit_code == 0, fitted.output
    assert "k=3" in fitted.output
    assert "of customers" in fitted.output
    assert "shaped most by: " in fitted.output
    assert ET.fromstring(svg.read_text()).find("{http://www.w3.org/2000/svg}circle") is not None

    shown = cli.invoke(app, ["personas", "show", "--json"])
    model = json.loads(shown.output)
    assert model["k"] == 3

    members = cli.invoke(app, ["personas", "members", "0", "--limit", "1"])
    assert members.exit_code == 0
    assert model["personas"][0]["name"] in members.output

    saved = cli.invoke(app, ["personas", "save", "0"])
    if importlib.util.find_spec("shopkeeper.segments.service") is None:  # no segment storage
        assert isinstance(saved.exception, Unavailable)
        assert "'field': 'persona'" in saved.exception.message
    else:
        assert saved.exit_code == 0, saved.output
        assert "saved segment" in saved.output

    bad = cli.invoke(app, ["personas", "--method", "dbscan"])
    assert bad.exit_code == 2
    assert "kmeans, gmm or auto" in bad.output
