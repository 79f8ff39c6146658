"""``shopkeeper segments ...`` against a real store: create from a file or inline, evaluate,
list, show (with the size chart), members, export, cross, priorities, and clean errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from shopkeeper.application import Shopkeeper
from tests.segments.store import Shop, build

Run = Callable[..., tuple[int, str, str]]
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # the CLI only wires the service


def test_segments_end_to_end(run: Run, shop: Shopkeeper, tmp_path: Path) -> None:
    people: Shop = build(shop)
    rule = tmp_path / "buyers.yaml"
    rule.write_text("field: orders\nop: '>='\nvalue: 1\n")
    assert run("segments", "create", "Buyers", "--file", str(rule))[0] == 0
    code, out, _ = run(
        "segments",
        "create",
        "Big spenders",
        "--rule",
        '{"field": "revenue", "op": ">=", "value": 100}',
    )
    assert code == 0
    assert "big-spenders" in out

    code, out, _ = run("segments", "evaluate")
    assert code == 0
    assert "buyers" in out
    assert "+2" in out
    code, out, _ = run("segments", "list")
    assert "Buyers" in out
    chart = tmp_path / "buyers.svg"
    code, out, _ = run("segments", "show", "buyers", "--svg", str(chart))
    assert code == 0
    assert "size over time" in out
    assert chart.read_text().startswith("<svg")
    code, out, _ = run("segments", "members", "buyers", "--json")
    assert {m["customer_id"] for m in json.loads(out)["members"]} == {people.ann, people.bob}

    audience = tmp_path / "audience.csv"
    assert run("segments", "export", "buyers", "-o", str(audience))[0] == 0
    digest = hashlib.sha256(b"test@example.com").hexdigest()
    assert audience.read_text().splitlines() == ["Email", digest]
    code, out, _ = run("segments", "export", "buyers", "--ids")
    assert out.splitlines()[0] == "customer_id"

    code, out, _ = run("segments", "cross", "buyers", "big-spenders", "--json")
    assert json.loads(out)["customers"] == 3
    code, out, _ = run("segments", "priorities")
    assert code == 0
    assert "score = value / effort" in out


def test_errors_are_messages_with_exit_code_2(run: Run) -> None:
    code, _, err = run(
        "segments", "create", "Bad", "--rule", '{"field": "categroy", "op": "=", "value": 1}'
    )
    assert code == 2
    assert "rule.field: unknown field 'categroy'" in err
    code, _, err = run("segments", "show", "nope")
    assert code == 2
    assert "no segment 'nope'" in err
    code, _, err = run("segments", "create", "Nothing")
    assert code == 2
    assert "--file or --rule" in err
