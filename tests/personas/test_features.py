"""The feature expression on hand-built tables: known answers, one row per customer."""

from __future__ import annotations

from datetime import UTC, datetime

import ibis
import pyarrow as pa
import pytest

from shopkeeper.personas.features import FEATURE_NAMES, feature_table, top_categories

NOW = datetime(2026, 11, 1, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


@pytest.fixture
def tables() -> tuple[ibis.Table, ibis.Table]:
    con = ibis.duckdb.connect()
    orders = pa.table(
        {
            "customer_id": ["a", "a", "a", "b", None],
            "timestamp": pa.array([at(1, 20), at(5, 21), at(9, 20), at(2, 10), at(2, 10)], TS),
            "amount": [30.0, 40.0, 50.0, 200.0, 99.0],
            "channel": ["web", "web", "store", "web", "web"],
            "counted": [True, True, True, True, True],
            "coupon": [True, True, False, False, False],
        }
    )
    kinds = ["page_viewed", "product_viewed", "page_viewed", "product_viewed", "product_viewed"]
    events = pa.table(
        {
            "customer_id": ["a", "a", "a", "a", "c", "b", "b"],
            "kind": [*kinds, "page_viewed", "product_viewed"],
            "timestamp": pa.array(
                [at(1, 20), at(1, 20), at(5, 21), at(5, 21), at(6, 9), at(2, 10), at(2, 10)], TS
            ),
            "session_id": ["s1", "s1", "s2", "s2", "s9", "s3", "s3"],
            "device": ["mobile", "mobile", "mobile", "mobile", None, "desktop", "desktop"],
            "medium": ["email", None, None, None, None, "cpc", None],
            "category": [None, "kids/shoes", None, "women/tops", "gifts/sets", None, "men/shoes"],
            "price_tier": [None, "budget", None, "budget", "mid", None, "premium"],
        }
    )
    return con.create_table("o", orders), con.create_table("e", events)


def test_known_answers(tables: tuple[ibis.Table, ibis.Table]) -> None:
    orders, events = tables
    frame = feature_table(orders, events, NOW, ("kids", "women")).to_pandas()
    rows = frame.set_index("customer_id")
    assert sorted(rows.index) == ["a", "b", "c"]  # every active customer once, no null id
    assert list(frame.columns) == ["customer_id", *FEATURE_NAMES, "category.kids", "category.women"]
    a = rows.loc["a"]
    assert (a.orders, a.revenue, a.aov) == (3.0, 120.0, 40.0)
    assert a.coupon_share == pytest.approx(2 / 3)
    assert a.store_share == pytest.approx(1 / 3)
    assert (a.sessions, a.views_per_session, a.conversion) == (2.0, 1.0, 1.0)
    assert (a.mobile_share, a.evening_share, a.email_share) == (1.0, 1.0, 0.5)
    assert (a.budget_share, a.premium_share) == (1.0, 0.0)
    assert (a["category.kids"], a["category.women"]) == (0.5, 0.5)
    assert a.recency_days == 23  # last order on 9 October
    assert a.tenure_days == 31
    b = rows.loc["b"]
    assert (b.premium_share, b.desktop_share, b.paid_share, b.office_share) == (1, 1, 1, 1)
    c = rows.loc["c"]  # viewed one gift, never visited a page or ordered: zeros, not nulls
    assert (c.orders, c.sessions, c.coupon_share, c.aov) == (0, 0, 0, 0)
    assert not frame.isna().any().any()


def test_top_categories_by_views(tables: tuple[ibis.Table, ibis.Table]) -> None:
    _, events = tables
    top = top_categories(events, 2).to_pandas()
    assert top.top.tolist() == ["gifts", "kids"]  # one view each: ties by name
