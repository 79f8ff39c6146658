"""``/healthz`` and ``/metrics``."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from shopkeeper.application import Shopkeeper


def _gauge(body: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", body, re.MULTILINE)
    assert found, f"{name} missing from /metrics"
    return float(found.group(1))


def test_metrics_show_the_projector_lag_from_the_store(
    shop: Shopkeeper, client: TestClient
) -> None:
    """Read from the store on each scrape, so a worker whose process runs no projector (the
    writer process runs it) still shows how far behind profiles are."""
    key = shop.keys.create("write").secret
    batch = [{"type": "identify", "userId": f"u-{i}", "messageId": f"m-{i}"} for i in range(3)]
    assert client.post("/v1/batch", json={"batch": batch}, auth=(key, "")).status_code == 200
    body = client.get("/metrics").text
    end = _gauge(body, "shopkeeper_log_end")
    assert end >= 3
    assert _gauge(body, "shopkeeper_projection_position") == end  # inline: applied at once


def test_healthz_names_the_store(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
