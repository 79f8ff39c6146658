"""``/v1/segments`` and ``GET /v1/customers/{id}/segments`` over HTTP, hostile rules included."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopkeeper.application import Shopkeeper
from tests.conftest import basic
from tests.segments.store import BUYERS, TODDLER, Shop, build

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # about the API; the store is tested


@pytest.fixture
def people(shop: Shopkeeper) -> Shop:
    return build(shop)


def post(client: TestClient, key: str, body: Any) -> Any:
    return client.post("/v1/segments", json=body, headers=basic(key))


def test_crud(client: TestClient, keys: dict[str, str]) -> None:
    admin, read = basic(keys["admin"]), basic(keys["read"])
    made = post(client, keys["admin"], {"name": "Buyers", "rule": BUYERS, "description": "any"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["slug"], body["version"], body["size"]) == ("buyers", 1, None)
    assert body["rule_text"] == "orders >= 1"
    listed = client.get("/v1/segments", headers=read).json()["segments"]
    assert [s["slug"] for s in listed] == ["buyers"]
    assert client.get(f"/v1/segments/{body['id']}", headers=read).json()["slug"] == "buyers"
    assert post(client, keys["admin"], {"name": "Buyers", "rule": BUYERS}).status_code == 409
    changed = client.put(
        "/v1/segments/buyers",
        json={"rule": {"field": "orders", "op": ">=", "value": 2}},
        headers=admin,
    )
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    assert client.delete("/v1/segments/buyers", headers=admin).status_code == 204
    assert client.get("/v1/segments/buyers", headers=read).status_code == 404
    assert post(client, keys["read"], {"name": "X", "rule": BUYERS}).status_code == 403


def test_evaluate_members_export_and_customer_segments(
    client: TestClient, keys: dict[str, str], people: Shop
) -> None:
    admin, read = basic(keys["admin"]), basic(keys["read"])
    assert post(client, keys["admin"], {"name": "Buyers", "rule": BUYERS}).status_code == 201
    assert post(client, keys["admin"], {"name": "Toddler", "rule": TODDLER}).status_code == 201
    done = client.post("/v1/segments/buyers/evaluate", headers=admin)
    assert done.status_code == 200, done.text
    assert [(e["slug"], e["size"], e["entered"]) for e in done.json()["segments"]] == [
        ("buyers", 2, 2)
    ]
    page = client.get("/v1/segments/buyers/members?limit=10", headers=read).json()
    assert sorted(m["customer_id"] for m in page["members"]) == sorted([people.ann, people.bob])
    shown = client.get("/v1/segments/buyers", headers=read).json()
    assert shown["size"] == 2
    assert [p["size"] for p in shown["history"]] == [2]

    csv = client.get("/v1/segments/buyers/export.csv", headers=admin)
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text == f"Email\r\n{hashlib.sha256(b'test@example.com').hexdigest()}\r\n"
    assert client.get("/v1/segments/buyers/export.csv", headers=read).status_code == 403

    mine = client.get("/v1/customers/ann/segments", headers=read)
    assert mine.status_code == 200
    found = {s["slug"]: s for s in mine.json()["segments"]}
    assert set(found) == {"buyers", "toddler"}
    assert found["buyers"]["reasons"] == ["rule: orders >= 1 (was 2)"]
    assert found["toddler"]["member_since"] is None
    assert client.get("/v1/customers/nobody/segments", headers=read).status_code == 404


def test_cross_and_priorities(client: TestClient, keys: dict[str, str], people: Shop) -> None:
    admin, read = basic(keys["admin"]), basic(keys["read"])
    post(client, keys["admin"], {"name": "Buyers", "rule": BUYERS})
    post(client, keys["admin"], {"name": "Toddler", "rule": TODDLER})
    client.post("/v1/segments/buyers/evaluate", headers=admin)
    client.post("/v1/segments/toddler/evaluate", headers=admin)
    crossed = client.get("/v1/segments/cross?segments=buyers&segments=toddler", headers=read)
    assert crossed.status_code == 200
    cells = {tuple(c["inside"]): c["customers"] for c in crossed.json()["cells"]}
    assert cells == {("buyers", "toddler"): 1, ("buyers",): 1, (): 1}
    assert client.get("/v1/segments/cross?segments=buyers", headers=read).status_code == 422
    ranked = client.get("/v1/segments/priorities", headers=read).json()
    assert [p["slug"] for p in ranked["segments"]] == ["buyers", "toddler"]
    assert "size x conversion rate x AOV" in ranked["formula"]


def nest(depth: int) -> dict[str, Any]:
    rule: dict[str, Any] = BUYERS
    for _ in range(depth):
        rule = {"not": rule}
    return rule


@pytest.mark.parametrize(
    ("rule", "status", "path"),
    [
        ({"field": "categroy", "op": "=", "value": "x"}, 422, "rule.field"),
        ({"field": "orders", "op": ">=", "value": "many"}, 422, "rule.value"),
        ({"field": "orders", "op": "LIKE", "value": 1}, 422, "rule.op"),
        ({"field": "orders; DROP TABLE customers; --", "op": "=", "value": 1}, 422, "rule.field"),
        ({"field": "source", "op": "=", "value": "x' OR '1'='1", "sql": "1=1"}, 422, "rule.sql"),
        ({"all": []}, 422, "rule.all"),
        ({"eval": "__import__('os')"}, 422, "rule"),
        (nest(40), 422, "rule"),
        ({"any": [BUYERS] * 5000}, 422, "rule"),
    ],
)
def test_hostile_rules_are_rejected_naming_the_part(
    client: TestClient, keys: dict[str, str], rule: Any, status: int, path: str
) -> None:
    answer = post(client, keys["admin"], {"name": "Hostile", "rule": rule})
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == "invalid"
    assert body["detail"]["errors"][0]["path"].startswith(path)
    assert client.get("/v1/segments", headers=basic(keys["read"])).json()["segments"] == []


def test_hostile_bodies_are_4xx_never_500(client: TestClient, keys: dict[str, str]) -> None:
    admin = {**basic(keys["admin"]), "content-type": "application/json"}
    bomb = '{"name": "b", "rule": ' + '{"not": ' * 100_000 + "1" + "}" * 100_001
    assert client.post("/v1/segments", content=bomb, headers=admin).status_code == 413
    deep = '{"name": "b", "rule": ' + "[" * 5000 + "]" * 5000 + "}"
    answer = client.post("/v1/segments", content=deep, headers=admin)
    assert answer.status_code == 400
    assert "malformed JSON" in answer.json()["message"]
    assert client.post("/v1/segments", content="{nope", headers=admin).status_code == 400
    huge = json.dumps(
        {"name": "h", "rule": {"field": "source", "op": "in", "value": ["x" * 900] * 400}}
    )
    assert client.post("/v1/segments", content=huge, headers=admin).status_code == 413
    missing = client.post("/v1/segments", json={"rule": BUYERS}, headers=admin)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["field"] == "name"
    extra = client.post("/v1/segments", json={"name": "x", "rule": BUYERS, "x": 1}, headers=admin)
    assert extra.status_code == 422
    bad_put = client.put("/v1/segments/nope", json={"rule": {"nope": 1}}, headers=admin)
    assert bad_put.status_code in (404, 422)
