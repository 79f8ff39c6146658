"""Merges: preview (dry run), merge, list, undo that restores both profiles exactly."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.errors import Conflict, NotFound
from shopkeeper.identities.service import IdentityGraph
from shopkeeper.models import AuditEntry, Customer

from .conftest import Observe, add_order, at, customer_of, dump, live_customers, merges, obs


@pytest.fixture
def two(shop: Shopkeeper, observe: Observe) -> tuple[str, str]:
    """A known customer (u1) and an anonymous visitor (a9), each with traits, an order and
    consent history; returns (known id, visitor id)."""
    observe(
        obs(
            "identify",
            user_id="u1",
            anonymous_id="a1",
            email="ada@example.com",
            minutes=5,
            traits={"first_name": "Ada", "city": "Oslo"},
            consent={"email": True},
        ),
        obs(
            "identify",
            anonymous_id="a9",
            minutes=1,
            traits={"city": "Bergen", "pronoun": "she"},
            consent={"email": False, "analytics": True},
        ),
    )
    known, visitor = customer_of(shop, "user_id", "u1"), customer_of(shop, "anonymous_id", "a9")
    assert known
    assert visitor
    add_order(shop, "o-known", known)
    add_order(shop, "o-visitor-1", visitor)
    add_order(shop, "o-visitor-2", visitor)
    return known, visitor


def test_preview_names_the_winner_and_writes_nothing(
    shop: Shopkeeper, graph: IdentityGraph, two: tuple[str, str]
) -> None:
    known, visitor = two
    before = dump(shop)
    with shop.db.transaction() as s:
        plan = graph.preview_merge(s, "a9", "ada@example.com")
    assert dump(shop) == before
    assert (plan.winner_id, plan.loser_id) == (known, visitor)
    assert "userId" in plan.why
    assert plan.identities_moving == [("anonymous_id", "a9")]
    assert plan.orders_moving == ["o-visitor-1", "o-visitor-2"]
    assert plan.consents_moving == 2
    assert [(c.key, c.winner_value, c.loser_value) for c in plan.trait_conflicts] == [
        ("city", "Oslo", "Bergen")
    ]
    assert plan.resulting_traits == {"first_name": "Ada", "city": "Oslo", "pronoun": "she"}
    assert plan.refused is None


def test_preview_shows_a_refusal(shop: Shopkeeper, graph: IdentityGraph, observe: Observe) -> None:
    observe(obs(user_id="u1"), obs(user_id="u2", minutes=1))
    u1 = customer_of(shop, "user_id", "u1")
    with shop.db.sessions() as s:
        plan = graph.preview_merge(s, "u1", "u2")
        assert plan.winner_id == u1
        assert plan.refused == "the profile would hold 2 userIds (limit 1)"
        with pytest.raises(Conflict, match="userIds"):
            graph.merge_customers(s, "u1", "u2", "same person", actor="test")


def test_unknown_and_same_customers(
    shop: Shopkeeper, graph: IdentityGraph, two: tuple[str, str]
) -> None:
    with shop.db.sessions() as s:
        with pytest.raises(NotFound, match="ghost"):
            graph.preview_merge(s, "u1", "ghost")
        with pytest.raises(Conflict, match="same customer"):
            graph.preview_merge(s, "u1", "a1")
        with pytest.raises(NotFound):
            graph.list_merges(s, "ghost")
        with pytest.raises(NotFound):
            graph.undo(s, 999)


def test_merge_then_undo_restores_both_profiles_exactly(
    shop: Shopkeeper, graph: IdentityGraph, clock: FixedClock, two: tuple[str, str]
) -> None:
    known, visitor = two
    before = dump(shop, skip=("updated_at",))
    clock.advance(hours=1)
    with shop.db.transaction() as s:
        merge = graph.merge_customers(s, "a9", "u1", "same person", actor="key:test")
    merged = dump(shop, skip=("updated_at",))
    assert merged != before
    with shop.db.sessions() as s:
        winner, loser = s.get(Customer, known), s.get(Customer, visitor)
        assert winner
        assert loser
        assert loser.merged_into_id == known
        assert winner.traits == {"first_name": "Ada", "city": "Oslo", "pronoun": "she"}
        assert (winner.first_seen_at, winner.last_seen_at) == (at(1), at(5))
    assert customer_of(shop, "anonymous_id", "a9") == known
    clock.advance(hours=1)
    with shop.db.transaction() as s:
        undone = graph.undo(s, merge.id, actor="key:test")
        assert undone.undone_at == clock.now()
    after = dump(shop, skip=("updated_at",))
    after["merges"] = before["merges"] = []
    assert after == before
    with shop.db.sessions() as s:
        restored = s.get(Customer, known)
        assert restored
        assert restored.updated_at == clock.now()
        actions = [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["customer.merge", "customer.merge_undo"]


def test_undo_twice_is_a_conflict(
    shop: Shopkeeper, graph: IdentityGraph, two: tuple[str, str]
) -> None:
    with shop.db.transaction() as s:
        merge = graph.merge(s, two[0], two[1], "test")
    with shop.db.transaction() as s:
        graph.undo(s, merge.id)
    with shop.db.transaction() as s, pytest.raises(Conflict, match="already undone"):
        graph.undo(s, merge.id)


def test_undo_keeps_what_changed_after_the_merge(
    shop: Shopkeeper, graph: IdentityGraph, observe: Observe, two: tuple[str, str]
) -> None:
    known, _ = two
    with shop.db.transaction() as s:
        merge = graph.merge(s, known, two[1], "test")
    observe(obs("identify", user_id="u1", traits={"city": "Paris"}, minutes=60))
    with shop.db.transaction() as s:
        graph.undo(s, merge.id)
    with shop.db.sessions() as s:
        winner = s.get(Customer, known)
        assert winner is not None
        assert winner.traits == {"first_name": "Ada", "city": "Paris"}
        assert winner.last_seen_at == at(60)


def test_chained_merges_undo_newest_first(
    shop: Shopkeeper, graph: IdentityGraph, observe: Observe, two: tuple[str, str]
) -> None:
    known, visitor = two
    observe(obs(anonymous_id="a-third", minutes=30))
    third = customer_of(shop, "anonymous_id", "a-third")
    assert third
    with shop.db.transaction() as s:
        first = graph.merge(s, known, visitor, "first")
        second = graph.merge(s, known, third, "second")
    with shop.db.transaction() as s, pytest.raises(Conflict, match=f"undo {second.id} first"):
        graph.undo(s, first.id)
    with shop.db.transaction() as s:
        graph.undo(s, second.id)
        graph.undo(s, first.id)
    assert len(live_customers(shop)) == 3
    assert customer_of(shop, "anonymous_id", "a-third") == third


def test_list_merges_by_customer(
    shop: Shopkeeper, graph: IdentityGraph, observe: Observe, two: tuple[str, str]
) -> None:
    known, visitor = two
    observe(obs(anonymous_id="lonely"))
    with shop.db.transaction() as s:
        merge = graph.merge(s, known, visitor, "test")
    with shop.db.sessions() as s:
        assert [m.id for m in graph.list_merges(s)] == [merge.id]
        assert [m.id for m in graph.list_merges(s, "a9")] == [merge.id]
        assert [m.id for m in graph.list_merges(s, visitor)] == [merge.id]
        assert graph.list_merges(s, "lonely") == []
    assert [m.reason for m in merges(shop)] == ["test"]


def test_merge_refuses_merged_away_customers(
    shop: Shopkeeper, graph: IdentityGraph, two: tuple[str, str]
) -> None:
    known, visitor = two
    with shop.db.transaction() as s:
        graph.merge(s, known, visitor, "test")
    with shop.db.transaction() as s, pytest.raises(Conflict, match="was merged into"):
        graph.merge(s, visitor, known, "again")


def test_a_merge_inside_a_batch_snapshots_what_the_batch_attached(
    shop: Shopkeeper, graph: IdentityGraph, observe: Observe
) -> None:
    observe(obs(anonymous_id="a1"), obs(user_id="u1", minutes=1))
    visitor, known = customer_of(shop, "anonymous_id", "a1"), customer_of(shop, "user_id", "u1")
    observe(
        obs(
            "identify", anonymous_id="a1", email="v@example.com", consent={"email": True}, minutes=2
        ),
        obs("identify", user_id="u1", anonymous_id="a1", minutes=3),
        obs("track", anonymous_id="a1", minutes=4),
    )
    [merge] = merges(shop)
    assert (merge.winner_id, merge.loser_id) == (known, visitor)
    assert len(merge.snapshot["identity_ids"]) == 2
    assert len(merge.snapshot["consent_ids"]) == 1
    with shop.db.sessions() as s:
        winner = s.get(Customer, known)
        assert winner is not None
        assert winner.last_seen_at == at(4)
    with shop.db.transaction() as s:
        graph.undo(s, merge.id)
    assert customer_of(shop, "email", "v@example.com") == visitor
    assert customer_of(shop, "anonymous_id", "a1") == visitor


def test_a_merge_without_snapshot_cannot_be_undone(
    shop: Shopkeeper, graph: IdentityGraph, two: tuple[str, str]
) -> None:
    with shop.db.transaction() as s:
        merge = graph.merge(s, two[0], two[1], "test")
        merge.snapshot = {"identities": []}
    with shop.db.transaction() as s, pytest.raises(Conflict, match="no undo snapshot"):
        graph.undo(s, merge.id)
