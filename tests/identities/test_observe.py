"""IdentityGraph.observe: profiles, joins, aliases, e-mail merges, safeguards, traits, consent."""

from __future__ import annotations

from sqlalchemy import select
from structlog.testing import capture_logs

from shopkeeper.application import Shopkeeper
from shopkeeper.models import Consent, Customer

from .conftest import (
    Observe,
    at,
    customer_of,
    graph_with,
    live_customers,
    merges,
    obs,
)


def test_every_identifier_gets_a_profile(shop: Shopkeeper, observe: Observe) -> None:
    observe(obs(anonymous_id="a1", minutes=5), obs(user_id="u1", minutes=3))
    a1, u1 = customer_of(shop, "anonymous_id", "a1"), customer_of(shop, "user_id", "u1")
    assert a1
    assert u1
    assert a1 != u1
    assert a1.startswith("cus_")
    with shop.db.sessions() as s:
        customer = s.get(Customer, a1)
        assert customer is not None
        assert customer.created_at == customer.first_seen_at == at(5)
        assert customer.updated_at == shop.clock.now()


def test_identify_attaches_a_new_anonymous_id_to_the_user(
    shop: Shopkeeper, observe: Observe
) -> None:
    observe(obs(user_id="u1"))
    observe(obs("identify", user_id="u1", anonymous_id="a1", minutes=1))
    assert customer_of(shop, "anonymous_id", "a1") == customer_of(shop, "user_id", "u1")
    assert merges(shop) == []


def test_identify_attaches_the_user_to_a_known_visitor(shop: Shopkeeper, observe: Observe) -> None:
    observe(obs(anonymous_id="a1", minutes=1))
    visitor = customer_of(shop, "anonymous_id", "a1")
    observe(obs("identify", user_id="u1", anonymous_id="a1", minutes=2))
    assert customer_of(shop, "user_id", "u1") == visitor
    assert merges(shop) == []


def test_visitor_and_user_born_in_one_batch_become_one_profile(
    shop: Shopkeeper, observe: Observe
) -> None:
    observe(
        obs(anonymous_id="a1", minutes=1, traits={"plan": "guest"}),
        obs(user_id="u1", minutes=2),
        obs("identify", user_id="u1", anonymous_id="a1", minutes=3),
    )
    [customer] = live_customers(shop)
    assert customer.first_seen_at == at(1)
    assert customer.last_seen_at == at(3)
    assert customer.traits == {"plan": "guest"}
    assert merges(shop) == []
    assert len(live_customers(shop)) == len(list(_all_customers(shop)))


def _all_customers(shop: Shopkeeper) -> list[Customer]:
    with shop.db.sessions() as s:
        return list(s.scalars(select(Customer)))


def test_identify_merges_a_stored_visitor_into_the_known_customer(
    shop: Shopkeeper, observe: Observe
) -> None:
    observe(obs(user_id="u1", minutes=10), obs(anonymous_id="a1", minutes=1))
    known = customer_of(shop, "user_id", "u1")
    visitor = customer_of(shop, "anonymous_id", "a1")
    observe(obs("identify", user_id="u1", anonymous_id="a1", minutes=20))
    [merge] = merges(shop)
    assert (merge.winner_id, merge.loser_id) == (known, visitor)
    assert merge.reason == "identify: anonymousId a1 joined userId u1"
    assert customer_of(shop, "anonymous_id", "a1") == known
    [customer] = live_customers(shop)
    assert (customer.first_seen_at, customer.last_seen_at) == (at(1), at(20))


def test_alias_joins_previous_id(shop: Shopkeeper, observe: Observe) -> None:
    observe(obs(anonymous_id="old-device"), obs(user_id="u1", minutes=1))
    observe(obs("alias", user_id="u1", previous_id="old-device", minutes=2))
    assert customer_of(shop, "anonymous_id", "old-device") == customer_of(shop, "user_id", "u1")
    assert [m.reason for m in merges(shop)] == ["alias"]


def test_alias_of_an_unseen_previous_id_attaches_it(shop: Shopkeeper, observe: Observe) -> None:
    observe(obs("alias", user_id="u1", previous_id="p-9"))
    assert customer_of(shop, "anonymous_id", "p-9") == customer_of(shop, "user_id", "u1")


def test_email_merges_profiles(shop: Shopkeeper, observe: Observe) -> None:
    observe(obs("identify", user_id="u1", email=" Ada@Example.COM "))
    known = customer_of(shop, "user_id", "u1")
    assert customer_of(shop, "email", "ada@example.com") == known
    observe(obs(anonymous_id="a9", minutes=1))
    observe(obs("identify", anonymous_id="a9", email="ada@example.com", minutes=2))
    [merge] = merges(shop)
    assert merge.winner_id == known
    assert "ada@example.com" in merge.reason
    [customer] = live_customers(shop)
    assert customer.email == "ada@example.com"


def test_email_merge_can_be_switched_off(shop: Shopkeeper, observe: Observe) -> None:
    graph = graph_with(shop, merge_on_email=False)
    observe(obs("identify", user_id="u1", email="ada@example.com"), using=graph)
    observe(obs(anonymous_id="a9", minutes=1), using=graph)
    observe(obs("identify", anonymous_id="a9", email="ada@example.com", minutes=2), using=graph)
    assert merges(shop) == []
    assert customer_of(shop, "anonymous_id", "a9") != customer_of(shop, "user_id", "u1")
    assert {c.email for c in live_customers(shop)} == {"ada@example.com"}


def test_blocked_values_never_create_or_merge(shop: Shopkeeper, observe: Observe) -> None:
    observe(
        obs("identify", user_id="null", anonymous_id="a1", email="test@test.com"),
        obs("identify", user_id=" NULL ", anonymous_id="a2", minutes=1),
        obs("identify", user_id="undefined", anonymous_id="undefined", minutes=2),
    )
    assert customer_of(shop, "user_id", "null") is None
    assert customer_of(shop, "email", "test@test.com") is None
    assert customer_of(shop, "anonymous_id", "a1") != customer_of(shop, "anonymous_id", "a2")
    assert len(live_customers(shop)) == 2
    assert merges(shop) == []


def test_user_id_limit_refuses_merging_two_known_customers(
    shop: Shopkeeper, observe: Observe
) -> None:
    observe(
        obs("identify", user_id="u1", anonymous_id="a1"),
        obs("identify", user_id="u2", anonymous_id="a2", minutes=1),
    )
    u1, u2 = customer_of(shop, "user_id", "u1"), customer_of(shop, "user_id", "u2")
    with capture_logs() as logs:
        observe(obs("identify", user_id="u2", anonymous_id="a1", minutes=2))
    assert merges(shop) == []
    assert customer_of(shop, "anonymous_id", "a1") == u1
    assert customer_of(shop, "user_id", "u2") == u2
    assert [e["event"] for e in logs] == ["identity.link_refused"]
    assert "userIds" in logs[0]["refused"]


def test_refused_attach_gives_the_identifier_its_own_profile(
    shop: Shopkeeper, observe: Observe
) -> None:
    observe(obs("identify", user_id="u1", anonymous_id="a1"))
    observe(obs("alias", user_id="u1", previous_id="u-old", minutes=1))
    # u-old was unseen, so it is attached as an anonymous id: allowed.
    assert customer_of(shop, "anonymous_id", "u-old") == customer_of(shop, "user_id", "u1")
    observe(obs("identify", user_id="u2", anonymous_id="a1", minutes=2))
    assert customer_of(shop, "user_id", "u2") not in {None, customer_of(shop, "user_id", "u1")}


def test_identity_limit_refuses_a_merge(shop: Shopkeeper, observe: Observe) -> None:
    graph = graph_with(shop, max_identities_per_profile=2)
    observe(obs("identify", user_id="u1", anonymous_id="a1"), obs(anonymous_id="a2"), using=graph)
    observe(obs("identify", user_id="u1", anonymous_id="a2", minutes=1), using=graph)
    assert merges(shop) == []
    assert customer_of(shop, "anonymous_id", "a2") != customer_of(shop, "user_id", "u1")


def test_traits_overwrite_given_keys_only(shop: Shopkeeper, observe: Observe) -> None:
    observe(obs("identify", user_id="u1", traits={"first_name": "Ada", "pronoun": "she"}))
    observe(obs("identify", user_id="u1", traits={"first_name": "Ada L."}, minutes=1))
    [customer] = live_customers(shop)
    assert customer.traits == {"first_name": "Ada L.", "pronoun": "she"}
    assert "salutation" not in customer.traits


def test_consent_history_appends_only_on_change(shop: Shopkeeper, observe: Observe) -> None:
    observe(obs("identify", user_id="u1", consent={"email": True, "analytics": True}))
    observe(
        obs("identify", user_id="u1", consent={"email": True}, minutes=1),
        obs("identify", user_id="u1", consent={"email": False, "analytics": True}, minutes=2),
    )
    observe(obs("identify", user_id="u1", consent={"email": False}, minutes=3))
    with shop.db.sessions() as s:
        rows = s.scalars(select(Consent).order_by(Consent.id)).all()
    assert [(r.purpose, r.granted, r.recorded_at) for r in rows] == [
        ("email", True, at(0)),
        ("analytics", True, at(0)),
        ("email", False, at(2)),
    ]
    assert {r.source for r in rows} == {"identify"}


def test_out_of_order_timestamps_keep_min_and_max(shop: Shopkeeper, observe: Observe) -> None:
    observe(obs(user_id="u1", minutes=10))
    observe(obs(user_id="u1", minutes=2), obs(user_id="u1", minutes=30), obs(user_id="u1"))
    [customer] = live_customers(shop)
    assert (customer.first_seen_at, customer.last_seen_at) == (at(0), at(30))
