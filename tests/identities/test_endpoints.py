"""HTTP: /v1/merges preview, merge, list, undo (admin keys only; 401/403/404/409)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shopkeeper.application import Shopkeeper

from ..conftest import basic
from .conftest import Observe, customer_of, obs


@pytest.fixture
def pair(shop: Shopkeeper, observe: Observe) -> tuple[str, str]:
    observe(
        obs("identify", user_id="u1", traits={"city": "Oslo"}),
        obs("identify", anonymous_id="a9", traits={"city": "Bergen"}, minutes=1),
    )
    known, visitor = customer_of(shop, "user_id", "u1"), customer_of(shop, "anonymous_id", "a9")
    assert known
    assert visitor
    return known, visitor


def test_preview_merge_undo_and_list(
    client: TestClient, keys: dict[str, str], pair: tuple[str, str]
) -> None:
    known, visitor = pair
    admin = basic(keys["admin"])
    preview = client.post("/v1/merges/preview", json={"a": "a9", "b": "u1"}, headers=admin)
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert (plan["winner_id"], plan["loser_id"], plan["allowed"]) == (known, visitor, True)
    assert plan["trait_conflicts"] == [
        {"key": "city", "winner_value": "Oslo", "loser_value": "Bergen"}
    ]
    assert plan["identities_moving"] == [{"kind": "anonymous_id", "value": "a9"}]

    merged = client.post(
        "/v1/merges", json={"a": "a9", "b": "u1", "reason": "same person"}, headers=admin
    )
    assert merged.status_code == 201, merged.text
    merge = merged.json()
    assert (merge["winner_id"], merge["loser_id"]) == (known, visitor)
    assert merge["identities_moved"] == 1
    assert merge["undone_at"] is None

    listed = client.get("/v1/merges", params={"customer": "a9"}, headers=admin)
    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["merges"]] == [merge["id"]]

    undone = client.post(f"/v1/merges/{merge['id']}/undo", headers=admin)
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone_at"] is not None
    again = client.post(f"/v1/merges/{merge['id']}/undo", headers=admin)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"


def test_admin_scope_is_required(client: TestClient, keys: dict[str, str]) -> None:
    body = {"a": "x", "b": "y"}
    assert client.post("/v1/merges/preview", json=body).status_code == 401
    for scope in ("read", "write"):
        headers = basic(keys[scope])
        assert client.post("/v1/merges/preview", json=body, headers=headers).status_code == 403
        assert client.post("/v1/merges", json=body, headers=headers).status_code == 403
        assert client.get("/v1/merges", headers=headers).status_code == 403
        assert client.post("/v1/merges/1/undo", headers=headers).status_code == 403


def test_unknown_identifiers_are_404_naming_them(
    client: TestClient, keys: dict[str, str], pair: tuple[str, str]
) -> None:
    admin = basic(keys["admin"])
    response = client.post("/v1/merges/preview", json={"a": "u1", "b": "ghost-7"}, headers=admin)
    assert response.status_code == 404
    assert "ghost-7" in response.json()["message"]
    assert response.json()["detail"] == {"field": "b"}
    merge = client.post("/v1/merges", json={"a": "nobody-3", "b": "u1"}, headers=admin)
    assert merge.status_code == 404
    assert "nobody-3" in merge.json()["message"]
    listing = client.get("/v1/merges", params={"customer": "ghost-9"}, headers=admin)
    assert listing.status_code == 404
    assert "ghost-9" in listing.json()["message"]
    undo = client.post("/v1/merges/4242/undo", headers=admin)
    assert undo.status_code == 404
    assert "4242" in undo.json()["message"]


def test_bad_input_is_422(client: TestClient, keys: dict[str, str]) -> None:
    admin = basic(keys["admin"])
    assert client.post("/v1/merges", json={"a": ""}, headers=admin).status_code == 422
    assert client.post("/v1/merges/abc/undo", headers=admin).status_code == 422
    assert client.get("/v1/merges", params={"limit": 0}, headers=admin).status_code == 422


def test_refused_merge_is_409(client: TestClient, keys: dict[str, str], observe: Observe) -> None:
    observe(obs(user_id="u1"), obs(user_id="u2"))
    response = client.post("/v1/merges", json={"a": "u1", "b": "u2"}, headers=basic(keys["admin"]))
    assert response.status_code == 409
    assert "userIds" in response.json()["message"]
