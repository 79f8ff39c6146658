"""The triggers' reads of a batch of people: known answers on both backends, SQLite's plans."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from shopkeeper.application import Shopkeeper
from shopkeeper.events.kinds import TRIGGER_FIRED
from shopkeeper.triggers import repository
from tests.customers import factories as f
from tests.customers.factories import T0

KEYS = [("user_id", "u-1"), ("anonymous_id", "a-1")]


def _store(shop: Shopkeeper) -> None:
    with shop.db.transaction() as s:
        f.product(s, "S1", category_path="Toys > Blocks", brand="Aurel", price_tier="premium")
        f.event(s, "product_viewed", T0, user_id="u-1", anonymous_id="a-9", sku="S1", value=9.5)
        f.event(s, "page_viewed", T0 + timedelta(minutes=1), anonymous_id="a-1", campaign="spring")
        f.event(s, "searched", T0 + timedelta(days=30), user_id="u-1", query="late")
        f.event(s, "product_viewed", T0, user_id="u-2", anonymous_id="a-1", sku="S1")
        f.event(
            s,
            TRIGGER_FIRED,
            T0 + timedelta(minutes=2),
            user_id="u-1",
            properties={"trigger": "cart_abandoned"},
        )


def test_recent_events_are_the_peoples_own_in_the_window_with_their_products(
    shop: Shopkeeper,
) -> None:
    _store(shop)
    with shop.db.sessions() as session:
        rows = repository.recent_events(
            session, KEYS, T0 - timedelta(days=1), T0 + timedelta(days=1)
        )
        fired = repository.fired_since(session, KEYS, T0 - timedelta(days=1))
    found = sorted(
        (r.kind, r.user_id or r.anonymous_id, r.category, r.value, r.campaign) for r in rows
    )
    # u-2's event carries a-1 but is u-2's; the search is after the window; the firing is not
    # an event a trigger looks at
    assert found == [
        ("page_viewed", "a-1", None, None, "spring"),
        ("product_viewed", "u-1", "Toys > Blocks", 9.5, None),
    ]
    assert fired == [("u-1", None, T0 + timedelta(minutes=2), "cart_abandoned")]
    with shop.db.sessions() as session:
        viewed = repository.recent_events(
            session, KEYS, T0 - timedelta(days=1), T0 + timedelta(days=1), ["product_viewed"]
        )
    assert [(r.kind, r.user_id) for r in viewed] == [("product_viewed", "u-1")]


@contextmanager
def _statements(shop: Shopkeeper) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        if sql.startswith("SELECT"):
            seen.append((sql, parameters))

    event.listen(shop.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(shop.db.engine, "before_cursor_execute", record)


def test_a_batch_of_people_is_read_from_the_visitor_indexes(shop: Shopkeeper) -> None:
    """Everything a trigger reads of an event rides in the visitor indexes (migration 0007),
    and each side of ``event_owner`` is read on its own: an ``OR`` of the two made SQLite fetch
    every row of each arriving person, a scattered page of the log each, which was most of what
    the projector spent behind a burst. No read walks the shop-wide kind index either."""
    if shop.db.dialect != "sqlite":
        pytest.skip("SQLite's plan; PostgreSQL picks by statistics")
    _store(shop)
    # a batch of people, as the projector reads them: the planner weighs the IN list's length
    batch = [*KEYS, *(("user_id", f"u-{n}") for n in range(2, 400))]
    with shop.db.sessions() as session:
        with _statements(shop) as seen:
            repository.recent_events(session, batch, T0 - timedelta(days=1), T0)
            # with the kinds of triggers that all name theirs
            repository.recent_events(
                session, batch, T0 - timedelta(days=1), T0, ["product_viewed", "page_viewed"]
            )
            repository.fired_since(session, batch, T0 - timedelta(days=1))
            repository.firings(session, batch, limit=50)
        assert len(seen) == 8
        for sql, parameters in seen:
            steps = [
                row[3]
                for row in session.connection().exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {sql}", parameters
                )
            ]
            events = [step for step in steps if "SEARCH events" in step]
            assert len(events) == 1, steps
            assert "ix_events_kind_ts" not in events[0], steps
            if "properties" not in sql:  # the firings' evidence is read from their rows
                assert "COVERING INDEX ix_events_" in events[0], steps
