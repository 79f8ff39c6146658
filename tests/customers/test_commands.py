"""``shopkeeper customers show``: tables, --json, and a clean error for an unknown id."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shopkeeper.application import Shopkeeper

from . import factories as f
from .factories import T0


@pytest.fixture
def lea(shop: Shopkeeper) -> str:
    with shop.db.transaction() as s:
        f.product(s, "B7", title="Linen blouse", category_path="women/tops", brand="Acme")
        lea = f.customer(
            s,
            id="cus_lea",
            traits={"first_name": "Léa", "email": "lea@example.com"},
            identities=[("user_id", "u-lea"), ("email", "lea@example.com")],
            first_seen=T0 - timedelta(days=3),
        )
        f.event(
            s,
            "product_viewed",
            T0 - timedelta(hours=3),
            user_id="u-lea",
            sku="B7",
            device_type="mobile",
        )
        f.order(s, lea, T0 - timedelta(hours=2), total="35.00", lines=[("B7", 1, "35.00")])
    return "cus_lea"


def test_show_prints_tables(run, lea: str) -> None:
    code, out, err = run("customers", "show", "u-lea")
    assert code == 0, err
    for text in (
        "Customer cus_lea",
        "Identities",
        "u-lea",
        "Consent",
        "unknown",
        "Affinities",
        "Acme",
        "Linen blouse",
        "mobile",
        "35.00",
        "Léa",
    ):
        assert text in out


def test_show_json(run, lea: str) -> None:
    code, out, _ = run("customers", "show", "lea@example.com", "--json")
    assert code == 0
    profile = json.loads(out)
    assert profile["id"] == lea
    assert profile["traits"]["salutation"] is None


def test_unknown_id_is_a_clear_error(run) -> None:
    code, out, err = run("customers", "show", "nobody-here")
    assert code == 2
    assert "nobody-here" in err
    assert "Traceback" not in err + out
