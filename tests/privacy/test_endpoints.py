"""The privacy routes: admin only, streamed export, erasure receipt, 404 for nobody."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import basic

from shopkeeper.application import Shopkeeper
from shopkeeper.models import AuditEntry


def test_export_route(client: TestClient, keys: dict[str, str], people: Any) -> None:
    response = client.get(f"/v1/customers/{people.user_id}/export", headers=basic(keys["admin"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["customer_id"] == people.customer_id
    assert len(body["events"]) == 6


def test_erase_route(
    client: TestClient, keys: dict[str, str], people: Any, shop: Shopkeeper
) -> None:
    response = client.delete(f"/v1/customers/{people.email}", headers=basic(keys["admin"]))
    assert response.status_code == 200
    body = response.json()
    assert body["erased"] is True
    assert body["counts"]["customers"] == 2
    with shop.db.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer.erase")
        ).one()
    assert entry.actor.startswith("key_")
    assert entry.target == body["target"]

    again = client.delete(f"/v1/customers/{people.email}", headers=basic(keys["admin"]))
    assert again.status_code == 404


def test_unknown_customer_is_404(client: TestClient, keys: dict[str, str]) -> None:
    admin = basic(keys["admin"])
    assert client.delete("/v1/customers/nobody", headers=admin).status_code == 404
    assert client.get("/v1/customers/nobody/export", headers=admin).status_code == 404


def test_read_key_cannot_export_or_erase(
    client: TestClient, keys: dict[str, str], people: Any
) -> None:
    read = basic(keys["read"])
    assert client.get(f"/v1/customers/{people.user_id}/export", headers=read).status_code == 403
    assert client.delete(f"/v1/customers/{people.user_id}", headers=read).status_code == 403
