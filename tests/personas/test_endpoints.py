"""``/v1/personas``: cards (read), fit (admin), members (read); 404 and 422 name the problem."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import basic
from tests.personas.conftest import SimulatedShop


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_fit_then_read_cards_and_members(
    client: TestClient, keys: dict[str, str], small_shop: SimulatedShop
) -> None:
    read, admin = basic(keys["read"]), basic(keys["admin"])
    missing = client.get("/v1/personas", headers=read)
    assert missing.status_code == 404
    assert "no persona model" in missing.json()["message"]

    bad = client.post("/v1/personas/fit", headers=admin, json={"method": "dbscan"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "method"

    body = {"method": "kmeans", "k": 3, "seed": 1, "min_sessions": 2, "bootstrap_rounds": 1}
    fitted = client.post("/v1/personas/fit", headers=admin, json=body)
    assert fitted.status_code == 200, fitted.text
    model = fitted.json()
    assert (model["method"], model["k"], len(model["personas"])) == ("kmeans", 3, 3)

    cards = client.get("/v1/personas", headers=read).json()
    assert cards["id"] == model["id"]
    first = cards["personas"][0]
    assert first["text"].startswith(first["name"])

    page = client.get("/v1/personas/0/members", headers=read, params={"limit": 2})
    assert page.status_code == 200
    assert page.json()["persona"] == first["name"]
    assert len(page.json()["customers"]) == 2
    assert client.get("/v1/personas/7/members", headers=read).status_code == 404
