"""The pure rules: identifiers, the winner, the safeguards, traits and three-way restore."""

from __future__ import annotations

from datetime import UTC, datetime

from shopkeeper.identities import rules
from shopkeeper.settings import DEFAULT_BLOCKED_IDENTITY_VALUES

BLOCKED = rules.blocked_set(DEFAULT_BLOCKED_IDENTITY_VALUES)
EARLY, LATE = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)


def test_identifiers_are_kept_as_sent_unless_blocked() -> None:
    assert rules.clean_identifier(" U-1 ", BLOCKED) == " U-1 "
    assert rules.clean_identifier(" Undefined ", BLOCKED) is None
    assert rules.clean_identifier("   ", BLOCKED) is None
    assert rules.clean_identifier(None, BLOCKED) is None
    assert rules.clean_identifier("x" * 321, BLOCKED) is None


def test_emails_are_normalised() -> None:
    assert rules.normalise_email(" Ada@Example.COM ", BLOCKED) == "ada@example.com"
    assert rules.normalise_email("TEST@test.com", BLOCKED) is None
    assert rules.normalise_email("not-an-address", BLOCKED) is None


def facts(cid: str, *keys: rules.Key, seen: datetime = EARLY) -> rules.ProfileFacts:
    return rules.ProfileFacts(cid, frozenset(keys), seen, seen)


def test_known_beats_anonymous_then_older_wins() -> None:
    known = facts("cus_b", ("user_id", "u1"), seen=LATE)
    anon = facts("cus_a", ("anonymous_id", "a1"))
    assert rules.choose_winner(anon, known)[0] == known
    older, newer = (
        facts("cus_z", ("anonymous_id", "x")),
        facts("cus_a", ("anonymous_id", "y"), seen=LATE),
    )
    winner, loser, why = rules.choose_winner(newer, older)
    assert (winner, loser) == (older, newer)
    assert "seen first" in why


def test_refusal_limits() -> None:
    a = {("user_id", "u1"), ("anonymous_id", "a1")}
    b = {("user_id", "u2")}
    assert rules.refusal(a, b, max_user_ids=1, max_identities=10) is not None
    assert rules.refusal(a, b, max_user_ids=2, max_identities=10) is None
    assert rules.refusal(a, b, max_user_ids=2, max_identities=2) is not None
    assert rules.refusal(a, {("user_id", "u1")}, max_user_ids=1, max_identities=2) is None


def test_merge_traits_winner_wins_loser_fills_gaps() -> None:
    merged, conflicts = rules.merge_traits({"a": 1, "b": 2}, {"b": 3, "c": 4})
    assert merged == {"a": 1, "b": 2, "c": 4}
    assert conflicts == [rules.TraitConflict("b", 2, 3)]


def test_three_way_restore() -> None:
    before, after = {"a": 1}, {"a": 1, "b": 2}
    assert rules.restore_traits(before, after, after) == before
    assert rules.restore_traits(before, after, {"a": 5, "b": 2}) == {"a": 5}
    assert rules.restore_traits(before, after, {"a": 1, "b": 2, "c": 3}) == {"a": 1, "c": 3}
    assert rules.restore_traits(before, after, {"a": 1}) == {"a": 1}
