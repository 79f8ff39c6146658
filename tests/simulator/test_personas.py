"""Hidden personas leave visibly different footprints in the event stream."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from tests.simulator.conftest import Simulated

KIDS = ("Kids/", "Toddler/", "Baby/")


def _by_persona(sim: Simulated, event: str) -> dict[str, list[dict[str, Any]]]:
    persona_of = sim.persona_of()
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in sim.events:
        if (e.get("event") or e["type"]) == event:
            who = e.get("userId") or e.get("anonymousId")
            out[persona_of[who]].append(e)
    return out


def _share(groups: dict[str, list[float]], persona: str) -> tuple[float, float]:
    """(mean for persona, mean for everyone else)."""
    mine = groups[persona]
    rest = [x for name, xs in groups.items() if name != persona for x in xs]
    return sum(mine) / len(mine), sum(rest) / len(rest)


def test_deal_seekers_use_coupons_on_most_orders(season: Simulated) -> None:
    orders = _by_persona(season, "Order Completed")
    web = {
        p: [float("coupon" in o["properties"]) for o in os if o["properties"]["channel"] == "web"]
        for p, os in orders.items()
    }
    deal, others = _share(web, "deal_seeker")
    assert deal > 0.6
    assert deal > 2.5 * others


def test_premium_loyalists_buy_premium(season: Simulated) -> None:
    tier = {p["sku"]: p["price_tier"] for p in season.sim.products}
    orders = _by_persona(season, "Order Completed")
    items = {
        p: [
            float(tier[line["sku"]] == "premium")
            for o in os
            for line in o["properties"]["products"]
        ]
        for p, os in orders.items()
    }
    premium, others = _share(items, "premium_loyalist")
    assert premium > 0.6
    assert premium > 2.5 * others
    value = {p: [o["properties"]["total"] for o in os] for p, os in orders.items()}
    aov, rest = _share(value, "premium_loyalist")
    assert aov > 1.8 * rest


def test_parents_browse_kids_baby_and_toddler(season: Simulated) -> None:
    views = _by_persona(season, "Product Viewed")
    kids = {
        p: [float(v["properties"]["category"].startswith(KIDS)) for v in vs]
        for p, vs in views.items()
    }
    parent, others = _share(kids, "parent")
    assert parent > 0.6
    assert parent > 2 * others


def test_gift_buyers_peak_before_christmas(season: Simulated) -> None:
    pages = _by_persona(season, "page")

    def in_season(e: dict[str, Any]) -> float:
        day = date.fromisoformat(e["timestamp"][:10])
        return float(date(2025, 11, 15) <= day <= date(2025, 12, 23))

    share = {p: [in_season(e) for e in es] for p, es in pages.items()}
    gift, others = _share(share, "seasonal_gift_buyer")
    assert gift > 0.65  # 39 of 120 days hold most of their visits
    assert gift > 1.6 * others


def test_window_shoppers_look_far_more_than_they_buy(season: Simulated) -> None:
    views = _by_persona(season, "Product Viewed")
    orders = _by_persona(season, "Order Completed")
    ratio = {p: len(views[p]) / max(len(orders[p]), 1) for p in views}
    others = [r for p, r in ratio.items() if p != "window_shopper"]
    assert ratio["window_shopper"] > 3 * max(others)


def test_deal_seekers_shop_on_phones_in_the_evening(season: Simulated) -> None:
    pages = _by_persona(season, "page")
    mobile = {
        p: [float(e["context"]["device"]["type"] == "mobile") for e in es]
        for p, es in pages.items()
    }
    evening = {p: [float(int(e["timestamp"][11:13]) >= 18) for e in es] for p, es in pages.items()}
    assert _share(mobile, "deal_seeker")[0] > _share(mobile, "premium_loyalist")[0] + 0.3
    assert _share(evening, "deal_seeker")[0] > _share(evening, "premium_loyalist")[0] + 0.2


def test_one_off_buyers_buy_once_and_lapsing_regulars_stop(season: Simulated) -> None:
    rows = season.truth["customers"]
    one_off = [r for r in rows if r["persona"] == "one_off" and r["observed"]["orders"]]
    assert one_off
    assert all(r["observed"]["orders"] == 1 for r in one_off)
    assert all(r["churn_date"] and r["expected_future_value"] == 0 for r in one_off)
    lapsing = [r for r in rows if r["persona"] == "lapsing_regular"]
    assert lapsing
    assert all(r["churn_date"] for r in lapsing)
    for r in lapsing:
        last = r["observed"]["last_active_date"]
        assert last is None or last < r["churn_date"]
    web = [r for r in rows if r["persona"] == "premium_loyalist"]
    assert sum(r["expected_future_value"] for r in web) / len(web) > 100


def test_influencers_review_and_share_far_more(season: Simulated) -> None:
    influencer = {}
    for row in season.truth["customers"]:
        for key in [row["user_id"], *row["anonymous_ids"]]:
            influencer[key] = row["influencer"]
    counts = {True: 0, False: 0}
    for e in season.events:
        if e.get("event") in {"Product Reviewed", "Product Shared", "Social Shared"}:
            counts[influencer[e.get("userId") or e["anonymousId"]]] += 1
    n_inf = sum(r["influencer"] for r in season.truth["customers"])
    n_rest = len(season.truth["customers"]) - n_inf
    assert n_inf > 0
    assert counts[True] / n_inf > 4 * counts[False] / n_rest


def test_influencers_advocate_without_ordering(season: Simulated) -> None:
    """Posts, referrals and shares of what they browse: an influencer the shop knows (any event
    under their userId) who never ordered still leaves a trail; ordinary non-buyers almost never."""
    kinds = {"Product Reviewed", "Product Shared", "Social Shared", "Referral Sent"}
    known: set[str] = set()
    advocacy: dict[str, int] = defaultdict(int)
    for e in season.events:
        known.add(e.get("userId", ""))
        if e.get("event") in kinds:
            advocacy[e.get("userId") or e["anonymousId"]] += 1
    trail: dict[bool, list[int]] = {True: [], False: []}
    for row in season.truth["customers"]:
        if row["observed"]["orders"] == 0 and row["user_id"] in known:
            ids = [row["user_id"], *row["anonymous_ids"]]
            trail[row["influencer"]].append(sum(advocacy[i] for i in ids))
    assert trail[True]
    assert all(n >= 2 for n in trail[True])
    assert sum(n >= 2 for n in trail[False]) <= 0.1 * len(trail[False])


def test_purchase_rates_vary_within_a_persona(season: Simulated) -> None:
    """Each customer's visit rates are the persona's times a Gamma(1, 1) multiplier: frequent
    customers order far more, and a tenth of the buyers brings about half of the revenue."""
    rows = season.truth["customers"]
    frequency = sorted(r["frequency"] for r in rows)
    assert 0.85 < sum(frequency) / len(frequency) < 1.15
    median = frequency[len(frequency) // 2]
    high = [r["observed"]["orders"] for r in rows if r["frequency"] > median]
    low = [r["observed"]["orders"] for r in rows if r["frequency"] <= median]
    assert sum(high) > 3 * sum(low)
    revenue = sorted(
        (r["observed"]["revenue"] for r in rows if r["observed"]["revenue"]), reverse=True
    )
    top = -(-len(revenue) // 10)
    assert sum(revenue[:top]) > 0.45 * sum(revenue)
