"""The event stream looks like what a real shop's Segment SDKs send."""

from __future__ import annotations

import re
from collections import Counter

import orjson
import pytest

from shopkeeper.catalog.schemas import ProductIn
from shopkeeper.events.kinds import kind_of
from shopkeeper.simulator.shop import ShopSimulation, SimulationConfig
from tests.simulator.conftest import Simulated

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PRODUCT_FIELDS = {"product_id", "sku", "name", "price", "currency", "category", "brand"}


def test_every_event_is_a_valid_segment_call_in_time_order(small: Simulated) -> None:
    ids = set()
    previous = ""
    for event in small.events:
        assert event["type"] in {"track", "page", "identify"}
        assert ISO_UTC.match(event["timestamp"]), event["timestamp"]
        assert event["timestamp"] >= previous
        previous = event["timestamp"]
        assert event.get("userId") or event.get("anonymousId")
        ids.add(event["messageId"])
        if event["type"] == "track":
            assert kind_of("track", event["event"]) != "custom", event["event"]
    assert len(ids) == len(small.events)
    assert small.events[0]["messageId"] == "sim-11-0"
    assert previous < "2025-12-31"


def test_the_stream_has_every_touchpoint(season: Simulated) -> None:
    names = Counter(e.get("event") or e["type"] for e in season.events)
    for name in (
        "page",
        "identify",
        "Products Searched",
        "Product Viewed",
        "Product Added",
        "Product Removed",
        "Checkout Started",
        "Coupon Applied",
        "Order Completed",
        "Order Refunded",
        "Email Opened",
        "Email Link Clicked",
        "Store Visited",
        "Product Reviewed",
        "Product Shared",
        "Signed Up",
        "Signed In",
    ):
        assert names[name] > 0, name
    assert names["Product Viewed"] > 5 * names["Order Completed"]


def test_product_events_carry_segment_v2_properties(small: Simulated) -> None:
    for event in small.events:
        if event.get("event") in {"Product Viewed", "Product Added", "Product Removed"}:
            assert event["properties"].keys() >= PRODUCT_FIELDS
            assert "/" in event["properties"]["category"]
            assert event["properties"]["category"][0].isupper()


def test_orders_add_up(small: Simulated) -> None:
    orders = [e for e in small.events if e.get("event") == "Order Completed"]
    assert orders
    account = {r["loyalty_id"]: r["user_id"] for r in small.truth["customers"] if r["loyalty_id"]}
    stores = set()
    for order in orders:
        p = order["properties"]
        assert order["userId"]  # nobody checks out anonymously
        gross = sum(line["price"] * line["quantity"] for line in p["products"])
        assert p["subtotal"] == pytest.approx(gross - p["discount"], abs=0.011)
        assert p["total"] == pytest.approx(p["subtotal"] + p["shipping"], abs=0.011)
        assert p["revenue"] == pytest.approx(p["subtotal"] - p["tax"], abs=0.011)
        assert ("coupon" in p) == (p["discount"] > 0)
        assert p["channel"] in {"web", "store"}
        if p["channel"] == "store":  # the card's account once there is one, else the card
            loyalty = order["context"]["traits"]["loyalty_id"]
            assert order["userId"] in {loyalty, account[loyalty]}
            stores.add(order["userId"][0])
    assert stores == {"C", "L"}


def test_web_sessions_carry_context(small: Simulated) -> None:
    pages = [e for e in small.events if e["type"] == "page"]
    for page in pages:
        ctx = page["context"]
        assert {"ip", "userAgent", "page", "device", "location", "locale", "consent"} <= ctx.keys()
        assert ctx["device"]["type"] in {"mobile", "tablet", "desktop"}
        assert ctx["consent"]["analytics"] is True
    sources = Counter(p["context"].get("campaign", {}).get("medium") for p in pages)
    assert {None, "cpc", "social", "referral"} <= sources.keys()


def test_identify_traits_only_hold_what_the_customer_gave(small: Simulated) -> None:
    gave = {row["user_id"]: row["salutation"] for row in small.truth["customers"]}
    identifies = [e for e in small.events if e["type"] == "identify" and e["userId"] in gave]
    # A till knows the loyalty card only: its identify calls carry that and nothing else.
    tills = [e for e in identifies if "anonymousId" not in e]
    assert tills
    assert all(e["traits"].keys() == {"loyalty_id"} for e in tills)
    identifies = [e for e in identifies if "anonymousId" in e]
    assert identifies
    for event in identifies:
        traits = event["traits"]
        assert {
            "email",
            "first_name",
            "last_name",
            "locale",
            "address",
            "age_band",
        } <= traits.keys()
        assert traits.get("salutation") == gave[event["userId"]]
    with_birthday = sum("birthday" in e["traits"] for e in identifies)
    assert 0 < with_birthday < len(identifies)


def test_truth_never_leaks_into_events(small: Simulated) -> None:
    blob = b"\n".join(orjson.dumps(e) for e in small.events)
    for word in (
        b'"persona"',
        b"deal_seeker",
        b"premium_loyalist",
        b"window_shopper",
        b"influencer",
        b"lapsing",
    ):
        assert word not in blob


def test_catalog_fits_the_store_schema(small: Simulated) -> None:
    products = [ProductIn.model_validate(p) for p in small.sim.products]
    assert len({p.sku for p in products}) == len(products)
    assert {p.price_tier for p in products} == {"budget", "mid", "premium"}
    assert all(p.currency == "EUR" and p.category_path and p.attributes for p in products)
    arrivals = [p.attributes["arrived_at"] for p in products if p.attributes]
    assert any(a > "2025-11-01" for a in arrivals), "new products arrive during the period"
    tiers = {
        t: [float(p.price or 0) for p in products if p.price_tier == t]
        for t in ("budget", "premium")
    }
    assert sum(tiers["premium"]) / len(tiers["premium"]) > 3 * (
        sum(tiers["budget"]) / len(tiers["budget"])
    )


def test_events_replay_identically_from_one_simulation() -> None:
    sim = ShopSimulation(SimulationConfig(customers=50, days=20, seed=3))
    first = orjson.dumps(list(sim.events()))
    assert orjson.dumps(list(sim.events())) == first


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ShopSimulation(SimulationConfig(customers=0, days=10))
