"""The profile assembled from factory rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.customers.schemas import ConsentUpdate
from shopkeeper.errors import Invalid, NotFound

from . import factories as f
from .factories import T0


def ago(**delta: float) -> object:
    return T0 - timedelta(**delta)


@pytest.fixture
def maria(shop: Shopkeeper) -> str:
    """Maria: a userId and an anonymousId, plus a merged-in profile with a second anonymousId."""
    with shop.db.transaction() as s:
        f.product(
            s,
            "D1",
            title="Red dress",
            category_path="women/dresses",
            brand="Acme",
            price_tier="mid",
        )
        f.product(
            s, "S1", title="Boots", category_path="women/shoes", brand="Bolt", price_tier="premium"
        )
        f.product(
            s, "M1", title="Shirt", category_path="men/shirts", brand="Acme", price_tier="budget"
        )
        maria = f.customer(
            s,
            id="cus_maria",
            traits={
                "first_name": "Maria",
                "last_name": "Rossi",
                "gender": "female",
                "email": "maria@example.com",
                "locale": "it-IT",
                "address": {"city": "Milano", "country": "IT"},
            },
            email="maria@example.com",
            first_seen=T0 - timedelta(days=100),
            last_seen=T0 - timedelta(days=2),
            identities=[
                ("user_id", "u-maria"),
                ("anonymous_id", "anon-1"),
                ("email", "maria@example.com"),
            ],
        )
        phone = f.customer(
            s,
            id="cus_phone",
            identities=[("anonymous_id", "anon-2")],
            first_seen=T0 - timedelta(days=200),
        )
        f.merge(s, maria, phone)
        other = f.customer(s, id="cus_other", identities=[("anonymous_id", "anon-x")])
        # Day -1 web session (session id), anonymous then logged in.
        web = {"channel": "web", "device_type": "desktop", "country": "IT", "city": "Milano"}
        f.event(
            s,
            "page_viewed",
            T0 - timedelta(days=1),
            anonymous_id="anon-1",
            session_id="w1",
            source="google",
            medium="cpc",
            type="page",
            **web,
        )
        f.event(
            s,
            "product_searched",
            T0 - timedelta(days=1, minutes=-1),
            anonymous_id="anon-1",
            session_id="w1",
            query="red dress",
            **web,
        )
        f.event(
            s,
            "product_viewed",
            T0 - timedelta(days=1, minutes=-2),
            anonymous_id="anon-1",
            session_id="w1",
            sku="D1",
            **web,
        )
        f.event(
            s,
            "product_added",
            T0 - timedelta(days=1, minutes=-3),
            user_id="u-maria",
            anonymous_id="anon-1",
            session_id="w1",
            sku="D1",
            **web,
        )
        # Day -40 app visit from the merged profile, no session id.
        app = {"channel": "app", "device_type": "mobile", "country": "IT", "city": "Roma"}
        f.event(
            s, "product_viewed", T0 - timedelta(days=40), anonymous_id="anon-2", sku="S1", **app
        )
        f.event(
            s,
            "product_viewed",
            T0 - timedelta(days=40, minutes=-10),
            anonymous_id="anon-2",
            sku="M1",
            **app,
        )
        # E-mail engagement is no visit.
        f.event(s, "email_opened", T0 - timedelta(days=3), user_id="u-maria")
        # Someone else's events never leak in.
        f.event(s, "product_viewed", T0, anonymous_id="anon-x", sku="M1")
        f.event(s, "product_searched", T0, anonymous_id="anon-x", query="secret")
        f.order(
            s, maria, T0 - timedelta(days=10), id="o-1", total="100.00", lines=[("D1", 1, "100.00")]
        )
        f.order(
            s,
            maria,
            T0 - timedelta(days=20),
            id="o-2",
            total="30.00",
            status="refunded",
            channel="store",
            lines=[("M1", 1, "30.00")],
        )
        f.order(
            s,
            phone,
            T0 - timedelta(days=50),
            id="o-3",
            total="50.00",
            refunded="10.00",
            status="partially_refunded",
            channel="store",
            lines=[("S1", 1, "50.00")],
        )
        f.order(
            s,
            maria,
            T0 - timedelta(days=5),
            id="o-4",
            total="20.00",
            status="cancelled",
            lines=[("M1", 1, "20.00")],
        )
        f.order(s, other, T0, id="o-x", total="999.00")
        f.consent(s, maria, "email", True, source="signup", at=T0 - timedelta(days=90))
        f.consent(s, maria, "email", False, source="preference_center", at=T0 - timedelta(days=9))
        f.consent(s, phone, "analytics", True, source="banner", at=T0 - timedelta(days=199))
    return "cus_maria"


@pytest.mark.parametrize(
    "identifier", ["cus_maria", "u-maria", "anon-1", "anon-2", "Maria@Example.com", "cus_phone"]
)
def test_any_identifier_finds_the_live_profile(
    shop: Shopkeeper, maria: str, identifier: str
) -> None:
    assert shop.customers.profile(identifier).id == maria


def test_identities_and_merges(shop: Shopkeeper, maria: str) -> None:
    profile = shop.customers.profile(maria)
    assert profile.merged_from == ["cus_phone"]
    assert {(i.kind, i.value) for i in profile.identities} == {
        ("user_id", "u-maria"),
        ("anonymous_id", "anon-1"),
        ("email", "maria@example.com"),
        ("anonymous_id", "anon-2"),
    }


def test_events_of_both_anonymous_ids_are_seen(shop: Shopkeeper, maria: str) -> None:
    recent = shop.customers.profile(maria).recent
    assert [(v.sku, v.title) for v in recent.product_views] == [
        ("D1", "Red dress"),
        ("M1", "Shirt"),
        ("S1", "Boots"),
    ]
    assert [s.query for s in recent.searches] == ["red dress"]


def test_traits_are_given_not_inferred(shop: Shopkeeper, maria: str) -> None:
    traits = shop.customers.profile(maria).traits
    assert traits.first_name == "Maria"
    assert traits.name == "Maria Rossi"
    assert traits.salutation is None  # never inferred from "Maria" or gender "female"
    assert traits.pronoun is None
    assert traits.email == "maria@example.com"
    assert traits.locale == "it-IT"
    assert traits.address == {"city": "Milano", "country": "IT"}


def test_given_salutation_and_pronoun_are_returned(shop: Shopkeeper) -> None:
    with shop.db.transaction() as s:
        f.customer(
            s,
            id="cus_alex",
            traits={
                "name": "Alex",
                "salutation": "Mx",
                "pronoun": "they/them",
                "birthday": "1990-04-01",
            },
        )
    traits = shop.customers.profile("cus_alex").traits
    assert (traits.name, traits.salutation, traits.pronoun, traits.birthday) == (
        "Alex",
        "Mx",
        "they/them",
        "1990-04-01",
    )


def test_activity(shop: Shopkeeper, maria: str) -> None:
    activity = shop.customers.profile(maria).activity
    # Orders of the merged profile count; cancelled and refunded ones do not.
    assert activity.orders == 2
    assert activity.revenue == Decimal("140.00")  # 100 + (50 − 10 refunded)
    assert activity.average_order_value == Decimal("70.00")
    assert activity.refunds == 2
    assert activity.last_order is not None
    assert (activity.last_order.id, activity.last_order.status) == ("o-4", "cancelled")
    # One web session by id, one app visit by inactivity; the e-mail open is no visit.
    assert activity.sessions == 2
    assert activity.first_seen == T0 - timedelta(days=100)
    assert activity.last_seen == T0 - timedelta(days=1, minutes=-3)


def test_consent_tenure_channels(shop: Shopkeeper, maria: str) -> None:
    profile = shop.customers.profile(maria)
    assert profile.consent["email"].granted is False
    assert profile.consent["email"].source == "preference_center"
    assert profile.consent["analytics"].granted is True  # given on the merged profile
    assert profile.consent["advertising"].granted is None  # never asked: unknown
    assert profile.tenure == "returning"
    assert profile.channels.orders == {"web": 1, "store": 1}
    assert profile.channels.events == {"web": 4, "app": 2}
    assert profile.devices == {"desktop": 4, "mobile": 2}
    assert [(loc.city, loc.count) for loc in profile.locations] == [("Milano", 4), ("Roma", 2)]
    assert [(t.source, t.medium, t.count) for t in profile.traffic_sources] == [
        ("google", "cpc", 1)
    ]


def test_affinities(shop: Shopkeeper, maria: str) -> None:
    aff = shop.customers.profile(maria).affinities
    assert aff.categories[0].value == "women"
    assert aff.category_paths[0].value == "women/dresses"
    assert aff.brands[0].value == "Acme"
    for shares in (aff.categories, aff.category_paths, aff.brands, aff.price_tiers):
        assert sum(s.share for s in shares) == pytest.approx(1.0, abs=1e-5)
    # The refunded and cancelled orders' shirt is no purchase: only the app view counts.
    assert [s.value for s in aff.category_paths] == ["women/dresses", "women/shoes", "men/shirts"]


def test_newcomer_profile(shop: Shopkeeper) -> None:
    with shop.db.transaction() as s:
        new = f.customer(
            s,
            id="cus_new",
            first_seen=T0 - timedelta(hours=1),
            identities=[("anonymous_id", "anon-new")],
        )
        f.event(s, "page_viewed", T0 - timedelta(minutes=25), anonymous_id="anon-new")
        f.event(s, "order_completed", T0 - timedelta(minutes=5), anonymous_id="anon-new")
        f.order(s, new, T0 - timedelta(minutes=5), total="10")
    profile = shop.customers.profile("anon-new")
    assert profile.tenure == "newcomer"
    assert profile.activity.sessions == 1
    assert profile.affinities.brands == []


def test_empty_profile(shop: Shopkeeper) -> None:
    with shop.db.transaction() as s:
        f.customer(s, id="cus_empty")
    profile = shop.customers.profile("cus_empty")
    assert profile.activity.orders == 0
    assert profile.activity.average_order_value is None
    assert profile.activity.last_order is None
    assert profile.identities == []
    assert set(profile.consent) == {"analytics", "personalization", "email", "advertising"}


def test_undone_merge_is_not_followed(shop: Shopkeeper) -> None:
    with shop.db.transaction() as s:
        a = f.customer(s, id="cus_a")
        b = f.customer(s, id="cus_b", identities=[("anonymous_id", "anon-b")])
        f.merge(s, a, b, undone_at=T0)
    assert shop.customers.profile("cus_a").merged_from == []
    assert shop.customers.profile("anon-b").id == "cus_b"


def test_unknown_identifier_is_not_found(shop: Shopkeeper) -> None:
    with pytest.raises(NotFound, match="nobody"):
        shop.customers.profile("nobody")


def test_consent_changes_append_history_only_for_changes(shop: Shopkeeper, maria: str) -> None:
    update = ConsentUpdate(purposes={"email": False, "advertising": True}, source="api")
    result = shop.customers.set_consent("u-maria", update)
    assert result.changed == ["advertising"]
    assert result.consent["advertising"].granted is True
    assert shop.customers.set_consent("u-maria", update).changed == []
    history = shop.customers.consent_history(maria).history
    assert [(h.purpose, h.granted, h.source) for h in history] == [
        ("email", True, "signup"),
        ("email", False, "preference_center"),
        ("analytics", True, "banner"),
        ("advertising", True, "api"),
    ]


def test_the_last_written_consent_row_is_in_force(shop: Shopkeeper) -> None:
    # A late event recorded after the API call carries an older timestamp; the row written
    # last still wins, as the identity graph assumes when it decides what is a change.
    with shop.db.transaction() as s:
        c = f.customer(s, id="cus_late")
        f.consent(s, c, "email", False, source="api", at=T0)
        f.consent(s, c, "email", True, source="event", at=T0 - timedelta(hours=1))
    profile = shop.customers.profile("cus_late")
    assert profile.consent["email"].granted is True
    assert profile.consent["email"].source == "event"


def test_unknown_consent_purpose_is_invalid(shop: Shopkeeper, maria: str) -> None:
    with pytest.raises(Invalid) as caught:
        shop.customers.set_consent(maria, ConsentUpdate(purposes={"sms": True}))
    assert caught.value.detail == {"field": "purposes.sms"}


def test_events_page_newest_first_with_cursor(shop: Shopkeeper, maria: str) -> None:
    first = shop.customers.events(maria, limit=4)
    assert [e.kind for e in first.events] == [
        "product_added",
        "product_viewed",
        "product_searched",
        "page_viewed",
    ]
    assert first.next_before is not None
    second = shop.customers.events(maria, limit=4, before=first.next_before)
    assert [e.kind for e in second.events] == ["email_opened", "product_viewed", "product_viewed"]
    assert second.next_before is None
    older = shop.customers.events(maria, before=(T0 - timedelta(days=4)).isoformat())
    assert [e.sku for e in older.events] == ["M1", "S1"]
    with pytest.raises(Invalid):
        shop.customers.events(maria, before="yesterday")


def test_events_page_through_equal_timestamps(shop: Shopkeeper) -> None:
    with shop.db.transaction() as s:
        f.customer(s, id="cus_burst", identities=[("user_id", "u-burst")])
        for _ in range(5):
            f.event(s, "page_viewed", T0, user_id="u-burst")
    seen: list[int] = []
    before = None
    while True:
        page = shop.customers.events("u-burst", limit=2, before=before)
        seen += [e.id for e in page.events]
        if page.next_before is None:
            break
        before = page.next_before
    assert len(seen) == len(set(seen)) == 5
