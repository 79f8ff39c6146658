"""``GET /v1/analytics/*``: read scope, JSON shaped for charting, bad input as 422."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import basic

from .conftest import REFERENCE


def test_rfm_is_read_scoped_and_chartable(
    client: TestClient, keys: dict[str, str], store: Any
) -> None:
    assert client.get("/v1/analytics/rfm").status_code == 401
    assert client.get("/v1/analytics/rfm", headers=basic(keys["write"])).status_code == 403
    response = client.get(
        "/v1/analytics/rfm",
        params={"reference_date": str(REFERENCE), "limit": 2},
        headers=basic(keys["read"]),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["grid"]) == 5
    assert all(len(row) == 5 for row in body["grid"])
    assert sum(body["segments"].values()) == 6
    assert len(body["customers"]) == 2
    assert body["customers"][0]["customer_id"] == store["u1"]  # R5 F4: the best scores


def test_kpis_and_cohorts(client: TestClient, keys: dict[str, str], store: Any) -> None:
    headers = basic(keys["read"])
    kpis = client.get(
        "/v1/analytics/kpis",
        params={"grain": "month", "start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
        headers=headers,
    )
    assert kpis.status_code == 200, kpis.text
    (row,) = kpis.json()["rows"]
    assert row["period"] == "2026-10-01"
    assert row["aov"] == 84.0
    assert "conversion_rate" in kpis.json()["columns"]
    cohorts = client.get("/v1/analytics/cohorts", params={"max_offset": 1}, headers=headers)
    assert cohorts.status_code == 200
    assert cohorts.json()["offsets"] == [0, 1]
    assert cohorts.json()["retention"][3] == [1.0, 0.5]


def test_bad_input_is_422(client: TestClient, keys: dict[str, str]) -> None:
    headers = basic(keys["read"])
    assert client.get("/v1/analytics/kpis?grain=year", headers=headers).status_code == 422
    assert client.get("/v1/analytics/rfm?window_days=0", headers=headers).status_code == 422
    # An empty shop has no repeat customers: the models cannot be fitted.
    response = client.get("/v1/analytics/clv", headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "calibration_end"


def test_rfm_movements(client: TestClient, keys: dict[str, str], store: Any) -> None:
    response = client.get(
        "/v1/analytics/rfm/movements",
        params={"before": "2026-10-01", "after": str(REFERENCE)},
        headers=basic(keys["read"]),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"before": None, "after": "Promising", "customer_id": store["u2"]} in body["customers"]
    assert sum(t["customers"] for t in body["transitions"]) == len(body["customers"])


def test_clv_ranks_customers_with_intervals(
    client: TestClient, keys: dict[str, str], store: Any
) -> None:
    response = client.get(
        "/v1/analytics/clv",
        params={"calibration_end": str(REFERENCE), "limit": 3},
        headers=basic(keys["read"]),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["bgnbd"]) == {"r", "alpha", "a", "b"}
    values = [c["clv"] for c in body["customers"]]
    assert len(values) == 3
    assert values == sorted(values, reverse=True)
    assert all(c["clv_low"] <= c["clv"] <= c["clv_high"] for c in body["customers"])
    assert body["total_clv"] >= sum(values)


def test_named_lists_are_read_scoped_and_paged(
    client: TestClient, keys: dict[str, str], store: Any
) -> None:
    for path in ("/v1/analytics/high-value", "/v1/analytics/advocates"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=basic(keys["write"])).status_code == 403
    headers = basic(keys["read"])
    day = {"reference_date": str(REFERENCE)}
    high = client.get(
        "/v1/analytics/high-value", params={**day, "limit": 2, "offset": 1}, headers=headers
    )
    assert high.status_code == 200, high.text
    body = high.json()
    assert (body["name"], body["reference_date"], body["total"], body["offset"]) == (
        "high-value",
        "2026-11-01",
        4,
        1,
    )
    assert [c["customer_id"] for c in body["customers"]] == [store["u2"], store["u1"]]
    advocates = client.get("/v1/analytics/advocates", params=day, headers=headers)
    assert advocates.status_code == 200, advocates.text
    (u1,) = advocates.json()["customers"]
    assert (u1["customer_id"], u1["visits"], u1["engagement_points"]) == (store["u1"], 2, 4.0)


def test_named_lists_reject_bad_paging_and_serve_an_empty_shop(
    client: TestClient, keys: dict[str, str]
) -> None:
    headers = basic(keys["read"])
    for path in ("/v1/analytics/high-value", "/v1/analytics/advocates"):
        for bad in ({"offset": -1}, {"limit": 100_001}, {"reference_date": "yesterday"}):
            response = client.get(path, params=bad, headers=headers)
            assert response.status_code == 422, (path, bad)
            assert next(iter(bad)) in response.text  # the field is named
        empty = client.get(path, headers=headers)
        assert empty.status_code == 200, empty.text
        assert (empty.json()["total"], empty.json()["customers"]) == (0, [])
