"""The fact projector: facts applied exactly once, in log order, on either schedule."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.events import repository
from shopkeeper.events.normalize import event_row
from shopkeeper.events.projector import NAME, Projector
from shopkeeper.events.schemas import Message
from shopkeeper.models import Event, Identity, Order
from shopkeeper.settings import Settings
from tests.events.test_endpoints import track


def order(i: int, user: str) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": user,
        "messageId": f"o-{i}",
        "timestamp": "2026-11-01T11:00:00Z",
        "properties": {
            "order_id": f"ord-{i}",
            "total": 30,
            "products": [{"product_id": "sku-1", "price": 30, "quantity": 1}],
        },
    }


@pytest.fixture
def background(settings: Settings, shop: Shopkeeper) -> Iterator[Shopkeeper]:
    """The same store, opened with the background schedule."""
    opened = Shopkeeper.open(settings.model_copy(update={"projection": "background"}))
    opened.clock = shop.clock
    yield opened
    opened.events.stop()
    opened.close()


def _count(shop: Shopkeeper, what: Any) -> int:
    with shop.db.sessions() as session:
        return session.execute(select(func.count()).select_from(what)).scalar_one()


def _store_only(shop: Shopkeeper, payloads: list[dict[str, Any]]) -> tuple[int, int]:
    """What the HTTP path does on the background schedule: append and acknowledge."""
    encoded, errors = shop.events.prepare_all(payloads, shop.clock.now())
    assert not errors
    return shop.events._store_groups([encoded])[0]


def test_background_acknowledges_before_facts_then_applies_them_once(
    background: Shopkeeper,
) -> None:
    assert _store_only(background, [track(1), order(2, "u-1")]) == (2, 0)
    assert _count(background, Event) == 2
    assert _count(background, Identity) == 0  # not applied yet: the projector's job
    assert background.events.projector.lag() == 2

    assert background.events.projector.drain() == 2
    assert _count(background, Identity) == 2  # anon-1 and u-1
    assert _count(background, Order) == 1
    assert background.events.projector.lag() == 0

    assert background.events.projector.drain() == 0  # nothing applied twice
    assert _store_only(background, [track(1), order(2, "u-1")]) == (0, 2)
    assert background.events.projector.drain() == 0
    assert _count(background, Order) == 1


def test_the_thread_applies_new_events_promptly(background: Shopkeeper) -> None:
    projector = background.events.projector
    projector.idle_poll = 0.05
    projector.start()
    try:
        _store_only(background, [track(i) for i in range(1, 6)])
        for _ in range(200):
            if projector.lag() == 0:
                break
            projector._stopping.wait(0.05)
        assert projector.lag() == 0
        assert _count(background, Identity) == 1
    finally:
        projector.stop()


def test_a_backlog_left_by_a_crash_is_caught_up_on_start(
    background: Shopkeeper, shop: Shopkeeper
) -> None:
    _store_only(background, [track(1), order(2, "u-9")])  # stored; the process "dies" here
    assert shop.events.projector.lag() == 2
    shop.events.start()  # inline schedule: its projector still catches up what is pending
    try:
        for _ in range(200):
            if shop.events.projector.lag() == 0:
                break
            shop.events.projector._stopping.wait(0.05)
    finally:
        shop.events.stop()
    assert _count(shop, Order) == 1
    assert _count(shop, Identity) == 2


def test_inline_applies_inside_the_ingest_transaction(shop: Shopkeeper) -> None:
    result = shop.events.ingest([track(1), order(2, "u-1")])
    assert result.accepted == 2
    assert shop.events.projector.lag() == 0
    assert _count(shop, Order) == 1


def test_alias_is_projected_from_the_stored_previous_id(background: Shopkeeper) -> None:
    _store_only(
        background,
        [
            track(1),
            {"type": "alias", "userId": "u-7", "previousId": "anon-1", "messageId": "a-1"},
        ],
    )
    with background.db.sessions() as session:
        stored = session.execute(select(Event.previous_id).where(Event.type == "alias"))
        assert stored.scalar_one() == "anon-1"
    background.events.projector.drain()
    with background.db.sessions() as session:
        owners = dict(session.execute(select(Identity.value, Identity.customer_id)).all())
    assert owners["u-7"] == owners["anon-1"]


def test_an_event_whose_facts_fail_is_skipped_not_blocking(
    background: Shopkeeper, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store_only(background, [track(1), order(2, "u-1"), track(3)])
    real = Projector.apply

    def failing(self: Projector, session: Any, facts: list[Any]) -> None:
        if any(f.order is not None for f in facts):
            raise ValueError("cannot apply")
        real(self, session, facts)

    monkeypatch.setattr(Projector, "apply", failing)
    assert background.events.projector.drain() == 3
    assert background.events.projector.lag() == 0
    assert _count(background, Order) == 0
    assert _count(background, Identity) == 1  # the two views still reached the profile
    assert background.metrics.projection_skipped._value.get() == 1


def test_ids_are_never_reused_after_the_newest_events_are_erased(shop: Shopkeeper) -> None:
    shop.events.ingest([track(1), track(2)])
    with shop.db.transaction() as session:
        position = repository.position_of(session, NAME)
        session.execute(Event.__table__.delete())
    shop.events.ingest([track(3)])
    with shop.db.sessions() as session:
        assert session.execute(select(Event.id)).scalar_one() > position


def test_followers_get_applied_rows_after_commit_on_both_schedules(
    shop: Shopkeeper, background: Shopkeeper
) -> None:
    seen: list[list[str]] = []
    for opened in (shop, background):
        opened.events.projector.followers.append(
            lambda rows: seen.append([row["kind"] for row in rows])
        )
    shop.events.ingest([track(1)])  # inline: followed once the writer's transaction commits
    assert seen == [["product_viewed"]]
    _store_only(background, [track(2)])
    assert len(seen) == 1  # background: nothing applied yet, nothing followed
    background.events.projector.drain()
    assert seen == [["product_viewed"], ["product_viewed"]]


def test_own_events_after_the_position_are_not_lag(shop: Shopkeeper) -> None:
    shop.events.ingest([track(1)])
    with shop.db.transaction() as session:
        repository.insert_new(
            session,
            [
                {
                    **event_row(Message.model_validate(track(2)), shop.clock.now()),
                    "message_id": "fired-1",
                    "kind": "trigger_fired",
                }
            ],
        )
    assert shop.events.projector.lag() == 0


def test_inline_ingest_behind_a_backlog_applies_the_backlog_first(
    background: Shopkeeper, shop: Shopkeeper
) -> None:
    _store_only(background, [order(1, "u-1")])  # pending: stored, facts not applied
    shop.events.ingest([order(2, "u-2")])  # inline: must not jump the position past order 1
    assert shop.events.projector.lag() == 0
    assert _count(shop, Order) == 2


def test_events_after_reads_what_the_typed_columns_read(shop: Shopkeeper) -> None:
    """The projector's driver-level read decodes JSON and times exactly as the column types."""
    shop.events.ingest([order(1, "u-typed"), track(2, userId="u-typed")])
    with shop.db.sessions() as session:
        fast = repository.events_after(session, 0, None)
        typed = [
            dict(row)
            for row in session.execute(
                select(*repository.FACT_COLUMNS).order_by(Event.id)
            ).mappings()
        ]
        assert fast == typed
        assert fast[0]["timestamp"].tzinfo is not None
        assert repository.events_after(session, fast[0]["id"], 1) == typed[1:2]


def test_a_projector_process_applies_a_bulk_load(shop: Shopkeeper, settings: Settings) -> None:
    """``ingest(project=False)`` only appends; the child process applies every fact."""
    from shopkeeper.events.projector import ProjectorProcess

    if shop.db.dialect == "sqlite" and ":memory:" in str(shop.db.url):
        pytest.skip("a child process needs a store on disk")
    with ProjectorProcess(shop, batch=2):
        result = shop.events.ingest([order(i, f"u-bulk-{i}") for i in range(5)], project=False)
        assert result.accepted == 5
    with shop.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 5
        assert repository.position_of(session, NAME) == session.scalar(select(func.max(Event.id)))


def test_a_batch_encoded_elsewhere_appends_like_ingest(shop: Shopkeeper) -> None:
    """``encode`` (plain values: it crosses processes pickled) then ``append`` counts repeats,
    rejects and replays as ``ingest`` does, and the projector applies the facts after."""
    import pickle

    batch = [order(1, "u-enc"), order(1, "u-enc"), {"type": "track"}, order(2, "u-enc")]
    encoded = pickle.loads(pickle.dumps(shop.events.encode(batch)))
    result = shop.events.append(encoded)
    assert (result.accepted, result.duplicates) == (2, 1)
    assert [(e.index, e.field) for e in result.errors] == [(2, "event")]
    assert _count(shop, Order) == 0  # appended only
    shop.events.projector.drain()
    assert _count(shop, Order) == 2
    again = shop.events.append(shop.events.encode(batch))
    assert (again.accepted, again.duplicates) == (0, 3)
    assert _count(shop, Event) == 2


def test_the_background_projector_can_run_in_its_own_process(
    settings: Settings, shop: Shopkeeper
) -> None:
    """``SHOPKEEPER_PROJECTOR=process``: the server process only appends; a child applies."""
    import time

    opened = Shopkeeper.open(
        settings.model_copy(update={"projection": "background", "projector": "process"}),
        clock=shop.clock,
    )
    opened.events.projector.start()
    try:
        assert opened.events.projector.running
        opened.events.ingest([order(i, f"u-proc-{i}") for i in range(3)], project=False)
        deadline = time.monotonic() + 30
        while opened.events.projector.lag() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.events.projector.lag() == 0
    finally:
        opened.events.projector.stop()
        opened.close()
    assert not opened.events.projector.running
    with shop.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 3


@pytest.fixture
def yielding(settings: Settings, shop: Shopkeeper) -> Iterator[Shopkeeper]:
    """The same store with the server's background projector holding back for bursts of
    more than 50 events/s, for at most a second."""
    update = {"projection": "background", "projection_yield_rate": 50}
    opened = Shopkeeper.open(settings.model_copy(update={**update, "projection_yield_seconds": 1}))
    opened.clock = shop.clock
    yield opened
    opened.close()


def _burst(shop: Shopkeeper, seconds: float, stop: threading.Event) -> None:
    """About 200 events/s, as 20-event appends every 0.1 s, until ``stop`` or ``seconds``."""
    end, n = time.monotonic() + seconds, 0
    while time.monotonic() < end and not stop.is_set():
        _store_only(shop, [track(n + i) for i in range(20)])
        n += 20
        time.sleep(0.1)


def test_the_projector_holds_back_during_an_ingest_burst_for_a_bounded_time(
    yielding: Shopkeeper,
) -> None:
    projector = yielding.events.projector
    start = time.monotonic()
    projector.hold_back(sample=0.1)
    assert time.monotonic() - start < 0.5  # nothing arriving: no waiting
    assert projector.held_back == 0

    stop = threading.Event()
    burst = threading.Thread(target=_burst, args=(yielding, 10.0, stop))
    burst.start()
    try:
        time.sleep(0.3)
        start = time.monotonic()
        # samples long enough to hold two or three appends each, so that one append slowed
        # by a busy machine does not look like the end of the burst
        projector.hold_back(sample=0.25)
        waited = time.monotonic() - start
    finally:
        stop.set()
        burst.join()
    # it waited while the burst went on, and stopped waiting once its second was spent
    assert 1.0 <= projector.held_back < 2.0
    assert 0.9 <= waited < 3.0
    projector.hold_back(sample=0.1)  # the budget is spent until it catches up
    assert projector.drain() > 0
    assert projector.lag() == 0
    assert projector.held_back == 0  # caught up: the next burst is waited out again


def test_a_stall_inside_a_burst_does_not_end_the_hold(settings: Settings, shop: Shopkeeper) -> None:
    """A checkpoint can stall the writer for tenths of a second; the burst is not over.

    The burst runs at ~200 events/s against a threshold of 20/s, so that appends slowed by a
    busy machine (a CI run) still count as a burst."""
    update = {"projection": "background", "projection_yield_rate": 20}
    opened = Shopkeeper.open(settings.model_copy(update={**update, "projection_yield_seconds": 10}))
    opened.clock = shop.clock
    never = threading.Event()

    def burst_with_a_stall() -> None:
        _burst(opened, 1.0, never)
        time.sleep(0.4)  # nothing committed: the writer is checkpointing
        _burst(opened, 1.0, never)

    thread = threading.Thread(target=burst_with_a_stall)
    thread.start()
    try:
        time.sleep(0.3)
        start = time.monotonic()
        opened.events.projector.hold_back(sample=0.1)
        waited = time.monotonic() - start
    finally:
        thread.join()
        opened.close()
    assert 1.5 <= waited < 6.0  # through the stall, to the burst's end
