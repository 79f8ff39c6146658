"""``shopkeeper triggers list|run``: definitions as a table or JSON; the sweep fires and reports."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import pytest

from shopkeeper import cli
from shopkeeper.application import Shopkeeper
from tests.triggers.test_service import view

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    shop: Shopkeeper, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """Run ``shopkeeper ARGS`` against the test store; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(shop.settings.data_dir))
    monkeypatch.setenv("SHOPKEEPER_DATABASE_URL", shop.settings.resolved_database_url)
    monkeypatch.setattr(cli.console, "width", 200)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["shopkeeper", *args])
        code = 0
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_list(run: Run) -> None:
    code, out, _ = run("triggers", "list")
    assert code == 0
    assert "premium_affinity" in out
    assert "cart_abandoned" in out
    code, out, _ = run("triggers", "list", "--json")
    assert code == 0
    assert {t["name"] for t in json.loads(out)} >= {"premium_affinity", "browse_no_buy"}


def test_run_sweeps_abandoned_carts(shop: Shopkeeper, run: Run) -> None:
    added = view("cli-cart", "t1", "mid", 0)
    added.update(event="Product Added", messageId="cli-cart-add")
    shop.events.ingest([added])
    code, out, _ = run("triggers", "run", "--at", "2026-11-02T11:00:00+00:00")
    assert code == 0
    assert "1 triggers fired" in out
    assert [f.trigger for f in shop.triggers.fired("cli-cart").fired] == ["cart_abandoned"]


def test_run_refuses_a_bad_time(run: Run) -> None:
    code, _, err = run("triggers", "run", "--at", "yesterday")
    assert code == 2
    assert "--at" in err
