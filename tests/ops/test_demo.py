"""``shopkeeper demo --no-serve``: a populated shop, keys that work, the same keys next time."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.models import Customer, Event, Order, Segment


def test_demo_loads_a_populated_shop_once(
    shop: Shopkeeper, run: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, err = run("demo", "--no-serve", "--customers", "120", "--days", "30")
    assert code == 0, err
    with shop.db.sessions() as session:
        customers = session.scalar(select(func.count()).select_from(Customer))
        orders = session.scalar(select(func.count()).select_from(Order))
        segments = session.scalar(select(func.count()).select_from(Segment))
        newest = session.scalar(select(func.max(Event.timestamp)))
    assert (customers or 0) >= 60  # most of the 120 simulated customers visited in 30 days
    assert (orders or 0) > 0
    assert (segments or 0) >= 10
    assert newest is not None
    assert datetime.now(UTC) - newest < timedelta(days=2)  # the history runs up to today
    assert f"({customers:,} customers)" in out
    keys = json.loads((shop.settings.data_dir / "demo-keys.json").read_text())
    assert set(keys) == {"write", "read", "admin"}
    assert keys["read"] in out

    code, again, err = run("demo", "--no-serve", "--customers", "120", "--days", "30")
    assert code == 0, err
    assert "not loading again" in again
    assert keys["read"] in again  # the same keys
    with shop.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == customers
