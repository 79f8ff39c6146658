"""The official Segment and RudderStack Python SDKs, unmodified, deliver to a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.settings import Settings
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    shop = Shopkeeper.open(settings)
    shop.migrate()
    keys = {scope: shop.keys.create(scope).secret for scope in ("write", "read")}
    shop.close()
    env = {"SHOPKEEPER_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["SHOPKEEPER_DATABASE_URL"] = settings.database_url
    live = LiveServer(env, tmp_path / "server.log").start()
    yield live, keys
    live.stop()


def profile(live: LiveServer, read_key: str, who: str) -> dict:
    response = httpx.get(f"{live.url}/v1/customers/{who}", auth=(read_key, ""), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_segment_sdk(server):
    import segment.analytics as segment

    live, keys = server
    errors: list[Exception] = []
    client = segment.Client(
        write_key=keys["write"],
        host=live.url,
        sync_mode=True,
        on_error=lambda exc, _batch: errors.append(exc),
        gzip=True,
    )
    client.page(anonymous_id="anon-seg", name="Home", properties={"url": "https://shop.test/"})
    client.track(
        anonymous_id="anon-seg",
        event="Product Viewed",
        properties={
            "product_id": "sku-9",
            "name": "Scarf",
            "price": 19.9,
            "category": "Women/Accessories",
            "brand": "Acme",
        },
    )
    client.identify(
        user_id="seg-user",
        anonymous_id="anon-seg",
        traits={"email": "ada@example.com", "first_name": "Ada"},
    )
    client.track(
        user_id="seg-user",
        event="Order Completed",
        properties={
            "order_id": "seg-1",
            "total": 19.9,
            "currency": "EUR",
            "products": [{"product_id": "sku-9", "price": 19.9, "quantity": 1}],
        },
    )
    client.flush()
    assert errors == []
    found = profile(live, keys["read"], "seg-user")
    values = {identity["value"] for identity in found["identities"]}
    assert {"seg-user", "anon-seg"} <= values
    assert found["activity"]["orders"] == 1
    assert any(view["sku"] == "sku-9" for view in found["recent"]["product_views"])


def test_rudderstack_sdk(server):
    from rudderstack.analytics.client import Client

    live, keys = server
    errors: list[Exception] = []
    client = Client(
        write_key=keys["write"],
        host=live.url,
        sync_mode=True,
        on_error=lambda exc, _batch: errors.append(exc),
    )
    client.track(anonymous_id="anon-rud", event="Products Searched", properties={"query": "boots"})
    client.identify(
        user_id="rud-user", anonymous_id="anon-rud", traits={"email": "grace@example.com"}
    )
    client.track(user_id="rud-user", event="Email Opened", properties={"email_id": "e1"})
    client.flush()
    assert errors == []
    found = profile(live, keys["read"], "anon-rud")
    assert {"rud-user", "anon-rud"} <= {i["value"] for i in found["identities"]}
    assert any(search["query"] == "boots" for search in found["recent"]["searches"])
