"""``shopkeeper merges list|preview|undo`` against the store under test."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shopkeeper.application import Shopkeeper
from shopkeeper.cli import _load, app
from shopkeeper.identities.service import IdentityGraph

from .conftest import Observe, customer_of, merges, obs


@pytest.fixture
def cli(shop: Shopkeeper, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(shop.settings.data_dir))
    monkeypatch.setenv("SHOPKEEPER_DATABASE_URL", shop.settings.resolved_database_url)
    monkeypatch.setenv("COLUMNS", "200")
    _load()
    return CliRunner()


def test_preview_list_undo(
    cli: CliRunner, shop: Shopkeeper, graph: IdentityGraph, observe: Observe
) -> None:
    observe(obs(user_id="u1"), obs(anonymous_id="a9", minutes=1))
    known = customer_of(shop, "user_id", "u1")
    preview = cli.invoke(app, ["merges", "preview", "a9", "u1"])
    assert preview.exit_code == 0, preview.output
    assert known in preview.output
    assert merges(shop) == []
    with shop.db.transaction() as s:
        merge = graph.merge_customers(s, "u1", "a9", "same person", actor="test")
    listed = cli.invoke(app, ["merges", "list", "--customer", "a9"])
    assert listed.exit_code == 0, listed.output
    assert "same person" in listed.output
    undone = cli.invoke(app, ["merges", "undo", str(merge.id)])
    assert undone.exit_code == 0, undone.output
    assert merges(shop)[0].undone_at is not None
