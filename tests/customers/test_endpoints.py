"""HTTP: GET /v1/customers/{id}, its events, and the consent API (scopes, 404, 422)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from shopkeeper.application import Shopkeeper
from tests.conftest import basic

from . import factories as f
from .factories import T0


@pytest.fixture
def ada(shop: Shopkeeper) -> str:
    with shop.db.transaction() as s:
        f.product(s, "D1", title="Red dress", category_path="women/dresses", brand="Acme")
        ada = f.customer(
            s,
            id="cus_ada",
            traits={"first_name": "Ada"},
            identities=[("user_id", "u-ada"), ("anonymous_id", "anon-ada")],
        )
        f.event(s, "product_viewed", T0 - timedelta(hours=2), anonymous_id="anon-ada", sku="D1")
        f.event(s, "product_searched", T0 - timedelta(hours=1), user_id="u-ada", query="dress")
        f.order(s, ada, T0 - timedelta(hours=1), total="49.90", lines=[("D1", 1, "49.90")])
    return "cus_ada"


def test_profile_with_read_key(client: TestClient, keys: dict[str, str], ada: str) -> None:
    response = client.get("/v1/customers/anon-ada", headers=basic(keys["read"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == ada
    assert body["traits"]["first_name"] == "Ada"
    assert body["traits"]["salutation"] is None
    assert body["activity"]["revenue"] == "49.90"
    assert body["recent"]["product_views"][0]["title"] == "Red dress"
    assert body["consent"]["email"] == {"granted": None, "source": None, "recorded_at": None}
    assert body["affinities"]["brands"] == [{"value": "Acme", "share": 1.0}]


def test_admin_key_may_read(client: TestClient, keys: dict[str, str], ada: str) -> None:
    assert client.get(f"/v1/customers/{ada}", headers=basic(keys["admin"])).status_code == 200


def test_read_scope_is_required(client: TestClient, keys: dict[str, str], ada: str) -> None:
    assert client.get(f"/v1/customers/{ada}").status_code == 401
    assert client.get(f"/v1/customers/{ada}", headers=basic(keys["write"])).status_code == 403
    events = client.get(f"/v1/customers/{ada}/events", headers=basic(keys["write"]))
    assert events.status_code == 403
    history = client.get(f"/v1/customers/{ada}/consent/history")
    assert history.status_code == 401


def test_unknown_customer_is_404_naming_it(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/v1/customers/ghost-42", headers=basic(keys["read"]))
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "ghost-42" in response.json()["message"]


def test_events_paging(client: TestClient, keys: dict[str, str], ada: str) -> None:
    read = basic(keys["read"])
    first = client.get(f"/v1/customers/{ada}/events", params={"limit": 1}, headers=read).json()
    assert [e["kind"] for e in first["events"]] == ["product_searched"]
    second = client.get(
        f"/v1/customers/{ada}/events",
        params={"limit": 1, "before": first["next_before"]},
        headers=read,
    ).json()
    assert [e["kind"] for e in second["events"]] == ["product_viewed"]
    assert second["next_before"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"before": "soon"}, "before")],
)
def test_bad_paging_is_422(
    client: TestClient, keys: dict[str, str], ada: str, params: dict[str, object], field: str
) -> None:
    response = client.get(f"/v1/customers/{ada}/events", params=params, headers=basic(keys["read"]))
    assert response.status_code == 422
    assert field in response.text


def test_consent_api(client: TestClient, keys: dict[str, str], ada: str) -> None:
    admin, read = basic(keys["admin"]), basic(keys["read"])
    body = {"purposes": {"email": True, "advertising": False}, "source": "api"}
    response = client.put("/v1/customers/u-ada/consent", json=body, headers=admin)
    assert response.status_code == 200, response.text
    assert sorted(response.json()["changed"]) == ["advertising", "email"]
    again = client.put(f"/v1/customers/{ada}/consent", json=body, headers=admin).json()
    assert again["changed"] == []
    change = {"purposes": {"email": False}, "source": "preference_center"}
    client.put(f"/v1/customers/{ada}/consent", json=change, headers=admin)

    history = client.get(f"/v1/customers/{ada}/consent/history", headers=read).json()["history"]
    assert [(h["purpose"], h["granted"], h["source"]) for h in history] == [
        ("email", True, "api"),
        ("advertising", False, "api"),
        ("email", False, "preference_center"),
    ]
    consent = client.get(f"/v1/customers/{ada}", headers=read).json()["consent"]
    assert consent["email"]["granted"] is False
    assert consent["advertising"]["granted"] is False
    assert consent["personalization"]["granted"] is None
    current = client.get(f"/v1/customers/{ada}/consent", headers=read).json()
    assert current["consent"]["email"]["source"] == "preference_center"


def test_consent_needs_admin(client: TestClient, keys: dict[str, str], ada: str) -> None:
    body = {"purposes": {"email": True}}
    response = client.put(f"/v1/customers/{ada}/consent", json=body, headers=basic(keys["read"]))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purposes": {"sms": True}}, "purposes.sms"),
        ({"purposes": {}}, "purposes"),
        ({"purposes": {"email": "maybe"}}, "purposes.email"),
        ({"purposes": {"email": True}, "extra": 1}, "extra"),
    ],
)
def test_bad_consent_is_422_naming_the_field(
    client: TestClient, keys: dict[str, str], ada: str, body: dict[str, object], field: str
) -> None:
    response = client.put(f"/v1/customers/{ada}/consent", json=body, headers=basic(keys["admin"]))
    assert response.status_code == 422, response.text
    assert field in response.text


def test_consent_for_unknown_customer_is_404(client: TestClient, keys: dict[str, str]) -> None:
    response = client.put(
        "/v1/customers/ghost/consent",
        json={"purposes": {"email": True}},
        headers=basic(keys["admin"]),
    )
    assert response.status_code == 404
