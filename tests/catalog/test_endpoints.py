"""The catalog HTTP API on SQLite and PostgreSQL: scopes, PUT, bulk with bad items, reads."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from tests.conftest import basic


def put(client: TestClient, key: str, sku: str, body: dict[str, object]) -> dict[str, object]:
    response = client.put(f"/v1/products/{sku}", json=body, headers=basic(key))
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_put_then_get(client: TestClient, keys: dict[str, str]) -> None:
    body = {"title": "Linen dress", "category_path": "Women > Dresses", "price": "49.9"}
    created = put(client, keys["admin"], "D-1", body)
    assert created["sku"] == "D-1"
    assert created["category_path"] == "women/dresses"
    got = client.get("/v1/products/D-1", headers=basic(keys["read"])).json()
    assert got == created
    assert Decimal(str(got["price"])) == Decimal("49.9")
    # Same sku in the body is fine; a full PUT clears what it leaves out.
    replaced = put(client, keys["admin"], "D-1", {"sku": "D-1", "title": "Dress"})
    assert replaced["category_path"] is None
    assert replaced["is_product"] is True


def test_put_sku_mismatch_is_422(client: TestClient, keys: dict[str, str]) -> None:
    response = client.put("/v1/products/D-1", json={"sku": "D-2"}, headers=basic(keys["admin"]))
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "sku"
    assert client.get("/v1/products/D-1", headers=basic(keys["read"])).status_code == 404


def test_put_invalid_field_is_422(client: TestClient, keys: dict[str, str]) -> None:
    response = client.put("/v1/products/D-1", json={"price": -1}, headers=basic(keys["admin"]))
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["detail"]] == ["price"]


@pytest.mark.parametrize(
    ("method", "path", "scope", "status"),
    [
        ("put", "/v1/products/D-1", None, 401),
        ("put", "/v1/products/D-1", "write", 403),
        ("put", "/v1/products/D-1", "read", 403),
        ("post", "/v1/products/bulk", "write", 403),
        ("post", "/v1/products/bulk", "read", 403),
        ("get", "/v1/products/D-1", None, 401),
        ("get", "/v1/products/D-1", "write", 403),
        ("get", "/v1/products", "write", 403),
        ("get", "/v1/products", None, 401),
    ],
)
def test_scopes(
    client: TestClient,
    keys: dict[str, str],
    method: str,
    path: str,
    scope: str | None,
    status: int,
) -> None:
    headers = basic(keys[scope]) if scope else {}
    body = {"products": []} if path.endswith("bulk") else {"title": "x"}
    kwargs: dict[str, object] = {"headers": headers}
    if method != "get":
        kwargs["json"] = body
    response = client.request(method.upper(), path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text


def test_bulk_stores_valid_items_and_reports_bad_ones(
    client: TestClient, keys: dict[str, str]
) -> None:
    products = [
        {"sku": "A", "title": "Apple", "category_path": "Food/Fruit"},
        {"sku": "B", "price": "not a price"},
        {"sku": "C", "title": "Cherry", "colour": "red"},
        "not an object",
        {"sku": "D", "title": "POSTAGE"},
        {"sku": "POST", "title": "POSTAGE"},
    ]
    response = client.post(
        "/v1/products/bulk", json={"products": products}, headers=basic(keys["admin"])
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["updated"], result["unchanged"]) == (3, 0, 0)
    assert [(e["index"], e["field"]) for e in result["errors"]] == [
        (1, "price"),
        (2, "colour"),
        (3, "item"),
    ]
    assert client.get("/v1/products/B", headers=basic(keys["read"])).status_code == 404
    assert (
        client.get("/v1/products/POST", headers=basic(keys["read"])).json()["is_product"] is False
    )

    again = client.post(
        "/v1/products/bulk", json={"products": products}, headers=basic(keys["admin"])
    ).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)


def test_bulk_partial(client: TestClient, keys: dict[str, str]) -> None:
    put(client, keys["admin"], "A", {"title": "Apple", "brand": "Orchard"})
    body = {"products": [{"sku": "A", "price": 2}], "partial": True}
    result = client.post("/v1/products/bulk", json=body, headers=basic(keys["admin"])).json()
    assert result["updated"] == 1
    got = client.get("/v1/products/A", headers=basic(keys["read"])).json()
    assert (got["title"], got["brand"]) == ("Apple", "Orchard")


def test_bulk_too_many_items_is_422(client: TestClient, keys: dict[str, str]) -> None:
    body = {"products": [{"sku": str(i)} for i in range(10_001)]}
    response = client.post("/v1/products/bulk", json=body, headers=basic(keys["admin"]))
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "products"


def test_list_filters_and_pages(client: TestClient, keys: dict[str, str]) -> None:
    products = [
        {"sku": f"W{i}", "category_path": "Women > Dresses", "brand": "Acme"} for i in range(5)
    ] + [
        {"sku": "M1", "category_path": "Men", "brand": "Acme"},
        {"sku": "X1", "category_path": "Womenswear", "brand": "Other"},
        {"sku": "W9", "category_path": "Women", "brand": "Other"},
    ]
    client.post("/v1/products/bulk", json={"products": products}, headers=basic(keys["admin"]))
    read = basic(keys["read"])

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"category": "WOMEN", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/products", params=params, headers=read).json()
        seen += [p["sku"] for p in page["products"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["W0", "W1", "W2", "W3", "W4", "W9"]

    acme = client.get("/v1/products", params={"brand": "Acme"}, headers=read).json()
    assert [p["sku"] for p in acme["products"]] == ["M1", "W0", "W1", "W2", "W3", "W4"]
    assert acme["next_cursor"] is None

    bad = client.get("/v1/products", params={"cursor": "%%%"}, headers=read)
    assert bad.status_code == 400
    assert client.get("/v1/products", params={"limit": 0}, headers=read).status_code == 422


def test_nul_characters_are_refused_not_500(client: TestClient, keys: dict[str, str]) -> None:
    admin, read = basic(keys["admin"]), basic(keys["read"])
    assert client.get("/v1/products/a%00b", headers=read).status_code == 422
    assert client.put("/v1/products/a%00b", json={}, headers=admin).status_code == 422
    response = client.put("/v1/products/A", json={"title": "a\u0000b"}, headers=admin)
    assert response.status_code == 422
    items = [{"sku": "A", "attributes": {"k": ["x\u0000"]}}, {"sku": "B"}]
    result = client.post("/v1/products/bulk", json={"products": items}, headers=admin).json()
    assert [(e["index"], e["field"]) for e in result["errors"]] == [(0, "attributes")]
    assert result["created"] == 1
