"""The event log's queries: whose events are whose, and the indexes that serve them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select, text

from shopkeeper.application import Shopkeeper
from shopkeeper.events import rows
from shopkeeper.events.normalize import event_row
from shopkeeper.events.repository import COLUMNS, encode, event_owner
from shopkeeper.events.schemas import Message
from shopkeeper.models import Event


def _event(message_id: str, user_id: str | None, anonymous_id: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {"type": "track", "event": "Product Viewed", "messageId": message_id}
    found["properties"] = {"sku": "sku-1"}
    if user_id:
        found["userId"] = user_id
    if anonymous_id:
        found["anonymousId"] = anonymous_id
    return found


def _owned(shop: Shopkeeper, user_ids: list[str], anonymous_ids: list[str]) -> set[str]:
    with shop.db.sessions() as session:
        query = select(Event.message_id).where(event_owner(user_ids, anonymous_ids))
        return set(session.scalars(query))


def test_an_event_is_its_user_ids_else_its_anonymous_ids(shop: Shopkeeper) -> None:
    # a shared device: "a-1" browses, logs in as u-1, later as u-2
    shop.events.ingest(
        [
            _event("browsing", None, "a-1"),
            _event("as-u1", "u-1", "a-1"),
            _event("as-u2", "u-2", "a-1"),
            _event("elsewhere", None, "a-2"),
        ]
    )
    assert _owned(shop, ["u-1"], ["a-1"]) == {"browsing", "as-u1"}
    assert _owned(shop, [], ["a-1"]) == {"browsing"}
    assert _owned(shop, ["u-2"], []) == {"as-u2"}
    assert _owned(shop, ["u-1", "u-2"], ["a-1", "a-2"]) == {
        "browsing",
        "as-u1",
        "as-u2",
        "elsewhere",
    }
    assert _owned(shop, [], []) == set()


def test_each_event_has_one_entry_in_the_visitor_indexes(shop: Shopkeeper) -> None:
    """What makes an append cheap: one random insert into a visitor index per event, not
    two (migration 0005)."""
    shop.events.ingest([_event(f"m-{i}", f"u-{i}" if i % 3 else None, f"a-{i}") for i in range(30)])
    with shop.db.sessions() as session:
        if shop.db.dialect == "sqlite":
            count = text("SELECT sum(ncell) FROM dbstat WHERE name = :index AND pagetype = 'leaf'")
            entries = [
                session.execute(count, {"index": name}).scalar()
                for name in ("ix_events_user_ts", "ix_events_anon_ts")
            ]
            assert entries == [20, 10]
        else:
            definitions = dict(
                session.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'")
                ).all()
            )
            assert definitions["ix_events_user_ts"].endswith("WHERE (user_id IS NOT NULL)")
            assert definitions["ix_events_anon_ts"].endswith("WHERE (user_id IS NULL)")


def test_a_visitors_events_are_found_through_both_indexes(shop: Shopkeeper) -> None:
    """Partial indexes serve a query only if it implies their condition: ``event_owner``'s
    terms do, so SQLite searches both (recommendation serving's index-only reads are checked
    in ``tests/recommendations``)."""
    if shop.db.dialect != "sqlite":
        return
    query = select(Event.id).where(event_owner(["u-1"], ["a-1"]))
    with shop.db.sessions() as session:
        connection = session.connection()
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        plan = " | ".join(
            row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
        )
    assert "INDEX ix_events_user_ts (user_id=?)" in plan
    assert "INDEX ix_events_anon_ts (anonymous_id=?)" in plan


def test_absent_fields_are_stored_as_sql_null(shop: Shopkeeper) -> None:
    """The SQLite writer binds NULL as a NaN double (``SQLITE_NULL``): the store must hold a
    real NULL, found by ``IS NULL`` and read back as ``None``."""
    shop.events.ingest([_event("bare", None, "a-1")])
    with shop.db.sessions() as session:
        stored = session.scalars(select(Event).where(Event.message_id == "bare")).one()
        nulls = session.execute(
            text(
                "SELECT count(*) FROM events WHERE user_id IS NULL AND value IS NULL "
                "AND previous_id IS NULL AND order_id IS NULL AND query IS NULL"
            )
        ).scalar()
    assert (stored.user_id, stored.value, stored.previous_id, stored.query) == (None,) * 4
    assert nulls == 1


def test_times_are_encoded_as_sqlalchemy_writes_them() -> None:
    """Naive UTC with microseconds, whatever the zone or precision given."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    cases = {
        datetime(2025, 1, 6, 9, 0, tzinfo=UTC): "2025-01-06 09:00:00.000000",
        datetime(2025, 1, 6, 9, 0, 0, 42): "2025-01-06 09:00:00.000042",
        datetime(
            2025, 1, 6, 1, 30, tzinfo=timezone(timedelta(hours=2))
        ): "2025-01-05 23:30:00.000000",
        datetime(1, 1, 1, tzinfo=UTC): "0001-01-01 00:00:00.000000",
    }
    at = COLUMNS.index("timestamp")
    for given, stored in cases.items():
        assert encode("sqlite", [{**row, "timestamp": given}])[0][at] == stored


def test_rows_are_built_with_every_column_of_the_log() -> None:
    """``event_values`` builds rows in its own column order; the insert names them."""
    table = [column.name for column in Event.__table__.columns if column.name != "id"]
    assert sorted(rows.COLUMNS) == sorted(table)
    assert len(set(rows.COLUMNS)) == len(rows.COLUMNS) == len(COLUMNS)


def test_event_values_follow_the_column_order() -> None:
    """``event_values`` is a list: each value must sit under its column's name."""
    message = Message.model_validate(
        {
            "type": "track",
            "event": "Product Viewed",
            "messageId": "m-1",
            "userId": "u-1",
            "anonymousId": "a-1",
            "properties": {"sku": "S-1", "price": 9.5, "currency": "eur", "query": "boots"},
            "context": {
                "ip": "10.0.0.1",
                "locale": "de-DE",
                "sessionId": "s-1",
                "page": {"url": "https://shop.example/p/S-1", "referrer": "https://t.co/x"},
                "location": {"country": "DE", "city": "Berlin"},
                "campaign": {"source": "news", "medium": "email", "name": "spring"},
            },
        }
    )
    row = event_row(message, datetime(2026, 1, 2, tzinfo=UTC))
    assert {name: row[name] for name in COLUMNS if name not in ("properties", "context")} == {
        "message_id": "m-1",
        "type": "track",
        "event": "Product Viewed",
        "kind": "product_viewed",
        "user_id": "u-1",
        "anonymous_id": "a-1",
        "previous_id": None,
        "timestamp": datetime(2026, 1, 2, tzinfo=UTC),
        "received_at": datetime(2026, 1, 2, tzinfo=UTC),
        "session_id": "s-1",
        "sku": "S-1",
        "order_id": None,
        "value": 9.5,
        "currency": "EUR",
        "query": "boots",
        "source": "news",
        "medium": "email",
        "campaign": "spring",
        "channel": "web",
        "traffic_channel": "email",
        "device_type": None,
        "country": "DE",
        "city": "Berlin",
        "ip": "10.0.0.1",
        "user_agent": None,
        "page_url": "https://shop.example/p/S-1",
        "referrer": "https://t.co/x",
        "locale": "de-DE",
        "traits": {},
    }
