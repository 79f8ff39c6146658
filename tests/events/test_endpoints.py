"""The HTTP Tracking API's semantics: storage, dedup, limits, auth, per-index errors."""

from __future__ import annotations

import gzip
import json
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.events.kinds import SYSTEM_KINDS, TRIGGER_FIRED
from shopkeeper.models import Event, Order, Product
from tests.conftest import basic


def track(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Product Viewed",
        "anonymousId": "anon-1",
        "messageId": f"m-{i}",
        "timestamp": "2026-11-01T10:00:00Z",
        "properties": {
            "product_id": f"sku-{i}",
            "name": f"Dress {i}",
            "price": 49.5,
            "category": "Women > Dresses",
            "brand": "Acme",
            "currency": "eur",
        },
        "context": {
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile",
            "campaign": {"source": "google", "medium": "cpc", "name": "autumn"},
            "location": {"country": "DE", "city": "Berlin"},
            "ip": "203.0.113.9",
        },
        **extra,
    }


def count(shop: Shopkeeper, model: Any) -> int:
    """Rows of ``model``; for events, only the shop's own (not trigger firings that may follow
    a batch moments after its answer)."""
    query = select(func.count()).select_from(model)
    if model is Event:
        query = query.where(Event.kind.not_in(SYSTEM_KINDS))
    with shop.db.sessions() as session:
        return int(session.scalar(query) or 0)


def test_track_is_stored_with_typed_columns(client, keys, shop):
    response = client.post("/v1/track", json=track(1), headers=basic(keys["write"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "accepted": 1, "duplicates": 0, "errors": []}
    with shop.db.sessions() as session:
        event = session.scalars(select(Event)).one()
        product = session.get(Product, "sku-1")
    assert (event.kind, event.sku, event.device_type, event.country) == (
        "product_viewed",
        "sku-1",
        "mobile",
        "DE",
    )
    assert (event.source, event.medium, event.campaign, event.currency) == (
        "google",
        "cpc",
        "autumn",
        "EUR",
    )
    assert product is not None
    assert product.category_path == "women/dresses"


def test_replayed_batch_stores_nothing_twice(client, keys, shop):
    batch = {"batch": [track(i) for i in range(50)]}
    first = client.post("/v1/batch", json=batch, headers=basic(keys["write"])).json()
    shop.events.settle()  # the first batch's trigger firings are written after its answer
    stored = count(shop, Event)
    again = client.post("/v1/batch", json=batch, headers=basic(keys["write"])).json()
    shop.events.settle()
    assert (first["accepted"], first["duplicates"]) == (50, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 50)
    assert count(shop, Event) == stored  # no event twice, no trigger firing twice
    with shop.db.sessions() as session:
        sent = select(func.count()).where(Event.kind != TRIGGER_FIRED)
        assert session.scalar(sent) == 50


def test_gzip_body_accepted(client, keys, shop):
    body = gzip.compress(orjson.dumps({"batch": [track(i) for i in range(5)]}))
    headers = {
        **basic(keys["write"]),
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    response = client.post("/v1/batch", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert count(shop, Event) == 5


def test_bad_batch_keeps_valid_events_and_names_fields(client, keys, shop):
    batch = {
        "batch": [
            track(1),
            {"type": "track", "anonymousId": "a", "messageId": "no-event"},
            {"type": "identify", "messageId": "no-ids"},
            {"type": "bogus", "anonymousId": "a"},
            track(2, timestamp="not a date"),
            "not an object",
            track(3),
            track(4, properties=["not", "an", "object"]),
            track(5, context="nor this"),
        ]
    }
    response = client.post("/v1/batch", json=batch, headers=basic(keys["write"]))
    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == 2
    by_index = {e["index"]: e["field"] for e in body["errors"]}
    assert by_index == {
        1: "event",
        2: "userId",
        3: "type",
        4: "timestamp",
        5: "",
        7: "properties",
        8: "context",
    }
    assert count(shop, Event) == 2


@pytest.mark.parametrize("route", ["/v1/batch", "/v1/track"])
@pytest.mark.parametrize("body", [b"{not json", b'{"event": "\xff"}', b'{"event": "\\ud800"}'])
def test_malformed_json_is_400(client, keys, route, body):
    response = client.post(route, content=body, headers=basic(keys["write"]))
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == "body"


def test_a_malformed_event_in_a_batch_is_rejected_by_index(client, keys, shop):
    body = b'{"batch": [' + orjson.dumps(track(1)) + b', {"type": "track", "event": "\xff"}]}'
    response = client.post("/v1/batch", content=body, headers=basic(keys["write"]))
    assert response.status_code == 422
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(1, "")]
    assert count(shop, Event) == 1


def test_integers_past_64_bits_are_kept(client, keys, shop):
    big = {"batch": [track(1, properties={"order_id": 2**70}), {**track(2), "userId": 2**70}]}
    body = json.dumps(big).encode()
    response = client.post("/v1/batch", content=body, headers=basic(keys["write"]))
    assert response.status_code == 200, response.text
    with shop.db.sessions() as session:
        stored = session.scalars(select(Event).order_by(Event.id)).all()
    assert stored[0].properties["order_id"] in (2**70, float(2**70))
    assert stored[1].user_id == str(2**70)


def test_broken_gzip_is_400(client, keys):
    headers = {**basic(keys["write"]), "Content-Encoding": "gzip"}
    assert client.post("/v1/batch", content=b"nope", headers=headers).status_code == 400


def test_oversize_batch_is_413_and_oversize_event_rejected_by_index(client, keys, shop):
    big = {"batch": [track(i, properties={"pad": "x" * 30_000}) for i in range(20)]}
    assert client.post("/v1/batch", json=big, headers=basic(keys["write"])).status_code == 413
    mixed = {"batch": [track(1), track(2, properties={"pad": "x" * 40_000})]}
    response = client.post("/v1/batch", json=mixed, headers=basic(keys["write"]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["index"] == 1
    assert count(shop, Event) == 1


def test_gzip_bomb_is_413(client, keys):
    bomb = gzip.compress(b'{"batch": [' + b" " * 5_000_000 + b"]}")
    headers = {**basic(keys["write"]), "Content-Encoding": "gzip"}
    assert client.post("/v1/batch", content=bomb, headers=headers).status_code == 413


def test_keys_are_checked(client, keys):
    assert client.post("/v1/track", json=track(1)).status_code == 401
    assert client.post("/v1/track", json=track(1), headers=basic("nope")).status_code == 401
    assert client.post("/v1/track", json=track(1), headers=basic(keys["read"])).status_code == 403
    with_body_key = {**track(2), "writeKey": keys["write"]}
    assert client.post("/v1/track", json=with_body_key).status_code == 200


def test_route_type_must_match(client, keys):
    response = client.post("/v1/identify", json=track(1), headers=basic(keys["write"]))
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "type"


def test_order_completed_records_order_and_refund(client, keys, shop):
    order = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u-1",
        "messageId": "o-1",
        "properties": {
            "order_id": "1001",
            "total": 120.0,
            "currency": "EUR",
            "coupon": "AUTUMN",
            "products": [
                {"product_id": "p1", "price": 50, "quantity": 2},
                {"product_id": "p2", "price": 20, "quantity": 1},
            ],
        },
    }
    refund = {
        "type": "track",
        "event": "Order Refunded",
        "userId": "u-1",
        "messageId": "o-2",
        "properties": {"order_id": "1001", "total": 120.0},
    }
    headers = basic(keys["write"])
    assert client.post("/v1/batch", json={"batch": [order]}, headers=headers).status_code == 200
    with shop.db.sessions() as session:
        stored = session.get(Order, "1001")
        assert stored is not None
        assert (stored.status, float(stored.total), stored.coupon) == ("completed", 120.0, "AUTUMN")
        assert stored.customer_id is not None
    assert client.post("/v1/track", json=refund, headers=headers).status_code == 200
    with shop.db.sessions() as session:
        assert session.get(Order, "1001").status == "refunded"


def test_python_api_ingest(shop):
    result = shop.events.ingest([track(1), {"type": "track"}])
    assert (result.accepted, len(result.errors)) == (1, 1)
    assert shop.events.ingest([track(1)]).duplicates == 1


def test_clock_skew_corrected_with_sent_at(client, keys, shop, clock):
    event = track(1, timestamp="2026-11-02T11:00:00Z", sentAt="2026-11-02T11:30:00Z")
    client.post("/v1/track", json=event, headers=basic(keys["write"]))
    with shop.db.sessions() as session:
        stored = session.scalars(select(Event)).one()
    # received at 12:00 (the fixed clock), sent 30 minutes after it happened -> 11:30
    assert stored.timestamp.isoformat() == "2026-11-02T11:30:00+00:00"
