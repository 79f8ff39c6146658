"""The export holds everything about the person and nothing about anyone else."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import select

from shopkeeper.application import Shopkeeper
from shopkeeper.errors import NotFound
from shopkeeper.models import AuditEntry


def test_export_holds_everything(shop: Shopkeeper, people: Any) -> None:
    with shop.db.transaction() as session:
        data = shop.privacy.export(session, people.email, actor="cli")

    assert data["customer_id"] == people.customer_id
    assert sorted(p["id"] for p in data["profiles"]) == sorted([people.customer_id, people.old_id])
    assert {i["value"] for i in data["identities"]} == {
        people.user_id,
        *people.anonymous_ids,
        people.email,
    }
    assert [c["granted"] for c in data["consents"]] == [True, False]
    assert [(o["id"], o["total"], [li["sku"] for li in o["lines"]]) for o in data["orders"]] == [
        ("ord-a1", "100.5000", ["SKU-1"]),
        ("ord-a2", "20.0000", ["SKU-2"]),
    ]
    assert [m["loser_id"] for m in data["merges"]] == [people.old_id]
    assert [e["message_id"] for e in data["events"]] == [
        "msg-2",
        "msg-3",
        "msg-1",
        "msg-4",
        "msg-5",
        "msg-8",
    ]
    assert "bob" not in str(data)


def test_export_is_audited_under_a_pseudonym(shop: Shopkeeper, people: Any) -> None:
    with shop.db.transaction() as session:
        shop.privacy.export(session, people.customer_id, actor="key_123")
    with shop.db.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer.export")
        ).one()
    assert entry.actor == "key_123"
    assert str(entry.target).startswith("sha256:")
    assert people.customer_id not in str(entry.target) + str(entry.detail)


def test_export_of_unknown_person_is_not_found(shop: Shopkeeper) -> None:
    with shop.db.transaction() as session, pytest.raises(NotFound):
        shop.privacy.export(session, "nobody", actor="cli")


def test_streamed_export_pages_through_events(shop: Shopkeeper, people: Any) -> None:
    with shop.db.transaction() as session:
        whole = shop.privacy.export(session, people.customer_id, actor="cli")
        person = shop.privacy.begin_export(session, people.customer_id, actor="cli")
    streamed = orjson.loads(b"".join(shop.privacy.export_chunks(person, page=2)))
    assert streamed == whole
