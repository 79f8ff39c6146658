"""``GET /v1/quality``: the scorecard as JSON for read keys."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shopkeeper.application import Shopkeeper
from tests.conftest import basic

from .conftest import Expected


def test_scorecard_json(client: TestClient, keys: dict[str, str], planted: Expected) -> None:
    response = client.get("/v1/quality", headers=basic(keys["read"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert 0 < body["overall"] < 100
    assert set(body["dimensions"]) == {
        "completeness", "validity", "uniqueness", "timeliness", "consistency", "anomaly",
    }  # fmt: skip
    assert [t["table"] for t in body["tables"]] == [
        "customers", "identities", "products", "orders", "order_lines", "events", "consents",
    ]  # fmt: skip
    anonymous = next(f for f in body["findings"] if f["check"] == "orders.customer_missing")
    assert anonymous == {
        "check": "orders.customer_missing",
        "table": "orders",
        "dimension": "completeness",
        "severity": "warning",
        "message": "1 of 8 orders have no customer (anonymous orders).",
        "affected": 1,
        "total": 8,
        "unit": "rows",
        "share": 0.125,
        "examples": ["o3"],
    }


def test_one_table_and_a_bad_table(
    client: TestClient, keys: dict[str, str], shop: Shopkeeper
) -> None:
    headers = basic(keys["read"])
    one = client.get("/v1/quality", params={"table": "events"}, headers=headers)
    assert one.status_code == 200
    assert one.json()["table"] == "events"
    assert one.json()["overall"] is None  # no events yet
    bad = client.get("/v1/quality", params={"table": "nope"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["detail"] == {"field": "table"}


def test_needs_a_read_key(client: TestClient, keys: dict[str, str]) -> None:
    assert client.get("/v1/quality").status_code == 401
    assert client.get("/v1/quality", headers=basic(keys["write"])).status_code == 403
    assert client.get("/v1/quality", headers=basic(keys["admin"])).status_code == 200
