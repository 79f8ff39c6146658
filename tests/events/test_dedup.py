"""messageId deduplication in two levels (``events.dedup``): the newest events are checked
against the log, older ones against ``event_message_ids``; either way an id is stored once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.events import dedup
from shopkeeper.events.repository import insert_new
from shopkeeper.models import Event, MessageId, Projection
from shopkeeper.settings import Settings


def _batch(ids: range, user: str = "u-1") -> list[dict[str, Any]]:
    return [
        {"type": "track", "event": "Thing Happened", "userId": user, "messageId": f"m-{i}"}
        for i in ids
    ]


def _stored(shop: Shopkeeper) -> list[str]:
    with shop.db.sessions() as session:
        return list(session.scalars(select(Event.message_id).order_by(Event.id)))


def _merged(shop: Shopkeeper) -> set[str]:
    with shop.db.sessions() as session:
        return set(session.scalars(select(MessageId.message_id)))


@pytest.fixture
def small_merges(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(dedup, "MERGE_EVERY", 5)
    return 5


def test_replays_are_stored_once_on_both_sides_of_the_merge(
    shop: Shopkeeper, small_merges: int
) -> None:
    first = shop.events.ingest(_batch(range(7)))
    assert (first.accepted, first.duplicates) == (7, 0)
    assert _merged(shop) == {f"m-{i}" for i in range(7)}  # 7 >= 5: merged
    second = shop.events.ingest(_batch(range(9)))  # m-0..m-6 merged, m-7, m-8 new
    assert (second.accepted, second.duplicates) == (2, 7)
    third = shop.events.ingest(_batch(range(10)))  # m-7, m-8 only in the log: recent
    assert (third.accepted, third.duplicates) == (1, 9)
    assert _stored(shop) == [f"m-{i}" for i in range(10)]


def test_a_repeated_message_id_in_one_call_is_stored_once(shop: Shopkeeper) -> None:
    with shop.db.transaction() as session:
        assert insert_new(session, _rows(shop, ["twice", "twice"])) == {"twice"}
    assert _stored(shop) == ["twice"]


def test_another_process_sees_the_newest_events(shop: Shopkeeper, settings: Settings) -> None:
    """Each process keeps its own copy of the newest messageIds: it reads what others
    appended since it last looked before it checks."""
    other = Shopkeeper.open(settings)
    try:
        assert other.events.ingest(_batch(range(3))).accepted == 3
        assert shop.events.ingest(_batch(range(4))).accepted == 1  # m-0..m-2 from `other`
        assert other.events.ingest(_batch(range(5))).accepted == 1  # m-3 from `shop`
    finally:
        other.close()
    assert len(_stored(shop)) == 5


def test_a_rolled_back_append_is_forgotten(shop: Shopkeeper) -> None:
    """The process's copy took the rolled-back events in; the next check sees they are not
    in the log and reads it again, so their retry is stored, not called a duplicate."""

    def fail_after_the_insert() -> None:
        with shop.db.transaction() as session:
            insert_new(session, _rows(shop, ["lost-1", "lost-2"]))
            raise RuntimeError("the request failed after the insert")

    with pytest.raises(RuntimeError):
        fail_after_the_insert()
    assert shop.events.ingest(_batch(range(2))).accepted == 2  # reuses the rolled-back ids
    retried = [{**e, "messageId": f"lost-{n}"} for n, e in enumerate(_batch(range(2)), 1)]
    result = shop.events.ingest(retried)
    assert (result.accepted, result.duplicates) == (2, 0)
    assert sorted(_stored(shop)) == ["lost-1", "lost-2", "m-0", "m-1"]


def test_erased_events_are_not_stored_again_on_a_retry(shop: Shopkeeper) -> None:
    shop.events.ingest(_batch(range(3), user="u-gone") + _batch(range(3, 5), user="u-stays"))
    with shop.db.transaction() as session:
        shop.privacy.erase(session, "u-gone", actor="test")
    assert _stored(shop) == ["m-3", "m-4"]
    retry = shop.events.ingest(_batch(range(3), user="u-gone"))
    assert (retry.accepted, retry.duplicates) == (0, 3)
    with shop.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 2


def _rows(shop: Shopkeeper, ids: list[str]) -> list[dict[str, Any]]:
    now = shop.clock.now()
    return [
        {
            "message_id": message_id,
            "type": "track",
            "kind": "custom",
            "timestamp": now,
            "received_at": now,
            "properties": {},
            "traits": {},
            "context": {},
        }
        for message_id in ids
    ]


def test_an_erasure_merges_first(shop: Shopkeeper) -> None:
    shop.events.ingest(_batch(range(3), user="u-gone"))
    with shop.db.transaction() as session:
        shop.privacy.erase(session, "u-gone", actor="test")
    assert _merged(shop) == {"m-0", "m-1", "m-2"}
    with shop.db.sessions() as session:
        position = session.scalar(select(Projection.position).where(Projection.name == dedup.NAME))
        assert position >= 3  # past the erased events, though none is left
