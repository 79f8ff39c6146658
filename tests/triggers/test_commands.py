"""``shopkeeper triggers list|run``: definitions as a table or JSON; the sweep fires and reports."""

from __future__ import annotations

import json
from collections.abc import Callable

from shopkeeper.application import Shopkeeper
from tests.triggers.test_service import view

Run = Callable[..., tuple[int, str, str]]


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
