"""The profile's event read: known answers on both backends, and SQLite's plan."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.customers import repository
from tests.customers import factories as f
from tests.customers.factories import T0


def _store(shop: Shopkeeper) -> None:
    with shop.db.transaction() as s:
        f.event(s, "product_viewed", T0, user_id="u-1", anonymous_id="a-1", sku="S1")
        f.event(s, "page_viewed", T0 + timedelta(minutes=1), anonymous_id="a-1", city="Köln")
        # the same time as the page view, stored later: newer by id
        f.event(s, "searched", T0 + timedelta(minutes=1), user_id="u-1", query="tea")
        f.event(s, "segment_entered", T0 + timedelta(minutes=2), user_id="u-1")
        f.event(s, "order_completed", T0 + timedelta(minutes=3), user_id="u-2", sku="S2")
        # another person's event on the shared device: theirs, not a-1's
        f.event(s, "product_viewed", T0 + timedelta(minutes=4), user_id="u-9", anonymous_id="a-1")


@pytest.mark.parametrize(
    ("users", "anonymous", "limit", "expected"),
    [
        (
            ["u-1"],
            ["a-1"],
            10,
            [("searched", "tea"), ("page_viewed", None), ("product_viewed", None)],
        ),
        (["u-1"], ["a-1"], 2, [("searched", "tea"), ("page_viewed", None)]),
        (
            ["u-1", "u-2"],
            [],
            10,
            [("order_completed", None), ("searched", "tea"), ("product_viewed", None)],
        ),
        ([], ["a-1"], 10, [("page_viewed", None)]),
        ([], [], 10, []),
    ],
)
def test_profile_events_are_the_newest_of_both_sides_without_system_events(
    shop: Shopkeeper,
    users: list[str],
    anonymous: list[str],
    limit: int,
    expected: list[tuple[str, str | None]],
) -> None:
    _store(shop)
    with shop.db.reading() as reader:
        rows = repository.profile_events(reader, users, anonymous, limit)
    assert [(row.kind, row.query) for row in rows] == expected
    assert all(row.timestamp.tzinfo is not None for row in rows)
    cities = {row.kind: row.city for row in rows}
    if "page_viewed" in cities:
        assert cities["page_viewed"] == "Köln"


def test_a_profiles_events_are_read_from_the_visitor_indexes_alone(shop: Shopkeeper) -> None:
    """Every column a profile reads rides in the per-visitor indexes (migration 0007), and each
    side is read on its own, so no profile fetches an event row: one scattered page of the log
    per event, which kept profile reads on the disk once the log outgrew the page cache."""
    if shop.db.dialect != "sqlite":
        pytest.skip("SQLite's plan; PostgreSQL picks by statistics")
    parameters = {"users": ["u-1", "u-2"], "anonymous": ["a-1"], "limit": 2000}
    with shop.db.sessions() as session:
        connection = session.connection()
        for shape, statement in repository._PROFILE_EVENTS.items():
            given = {k: v for k, v in parameters.items() if k in statement.lists or k == "limit"}
            plan = shop.db.plan(statement, given)
            rows = connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {plan.sql}", tuple(plan.arguments(given))
            )
            steps = [row[3] for row in rows]
            searches = [step for step in steps if step.startswith("SEARCH events")]
            assert len(searches) == sum(shape), (shape, steps)
            assert all("COVERING INDEX ix_events_" in step for step in searches), (shape, steps)
            assert not any("MULTI-INDEX OR" in step for step in steps), (shape, steps)
