"""The keys API: secrets shown once, never listed; revocation works; all of it audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import basic

from shopkeeper.application import Shopkeeper
from shopkeeper.models import ApiKey, AuditEntry


def test_create_list_revoke(client: TestClient, keys: dict[str, str], shop: Shopkeeper) -> None:
    admin = basic(keys["admin"])
    created = client.post("/v1/keys", json={"scope": "read", "name": "crm"}, headers=admin)
    assert created.status_code == 201
    key = created.json()
    assert (key["scope"], key["name"]) == ("read", "crm")
    secret = key["secret"]
    assert client.get("/v1/keys", headers=basic(secret)).status_code == 403  # a read key works

    listed = client.get("/v1/keys", headers=admin)
    assert listed.status_code == 200
    text = listed.text
    assert secret not in text
    with shop.db.sessions() as session:
        for stored in session.scalars(select(ApiKey)):
            assert stored.key_hash not in text
    assert {k["id"] for k in listed.json()} >= {key["id"]}
    assert all(
        set(k) == {"id", "name", "scope", "prefix", "created_at", "revoked_at"}
        for k in listed.json()
    )

    revoked = client.delete(f"/v1/keys/{key['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    shop.keys._cache.clear()  # another process would wait CACHE_SECONDS
    assert client.get("/v1/keys", headers=basic(secret)).status_code == 401
    assert client.delete(f"/v1/keys/{key['id']}", headers=admin).status_code == 200

    with shop.db.sessions() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.target == key["id"]).order_by(AuditEntry.id)
        ).all()
    assert [e.action for e in entries] == ["key.create", "key.revoke"]
    assert all(e.actor.startswith("key_") for e in entries)


def test_bad_input(client: TestClient, keys: dict[str, str]) -> None:
    admin = basic(keys["admin"])
    bad_scope = client.post("/v1/keys", json={"scope": "root"}, headers=admin)
    assert bad_scope.status_code == 422
    assert bad_scope.json()["detail"][0]["field"] == "scope"
    assert (
        client.post(
            "/v1/keys", json={"scope": "read", "name": "x" * 201}, headers=admin
        ).status_code
        == 422
    )
    assert client.delete("/v1/keys/key_nope", headers=admin).status_code == 404


def test_only_admin_keys_manage_keys(client: TestClient, keys: dict[str, str]) -> None:
    for scope in ("write", "read"):
        headers = basic(keys[scope])
        assert client.get("/v1/keys", headers=headers).status_code == 403
        assert client.post("/v1/keys", json={"scope": "admin"}, headers=headers).status_code == 403
