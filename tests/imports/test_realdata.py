"""The shared real data sets, imported whole on SQLite, checked against their READMEs."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.imports.service import ImportService
from shopkeeper.models import Order, Product
from shopkeeper.settings import Settings

from .conftest import counts

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture
def sqlite_shop(tmp_path: Path, clock: FixedClock) -> Iterator[Shopkeeper]:
    """A fresh SQLite store: the real files take tens of seconds, so one backend only."""
    shop = Shopkeeper.open(
        Settings(data_dir=tmp_path, log_json=False, sqlite_synchronous="NORMAL"), clock=clock
    )
    shop.migrate()
    yield shop
    shop.close()


def test_online_retail(sqlite_shop: Shopkeeper, shared_data: Path) -> None:
    path = shared_data / "online-retail" / "online_retail.csv.gz"
    summary = ImportService(sqlite_shop).run("online-retail", [path])
    assert summary.rows == 541_909
    assert summary.rejected == 0
    assert summary.duplicates == 5_268  # README: exact duplicate rows
    assert summary.accepted == 541_909 - 5_268
    stored = counts(sqlite_shop)
    # Every invoice is an order: C = cancelled orders, the three A (bad debt) ones included.
    assert stored["orders"] == 25_900
    assert stored["customers"] == 4_372
    assert stored["products"] == 4_070
    assert stored["order_lines"] == 541_909 - 5_268
    with sqlite_shop.db.transaction() as s:
        cancelled = s.scalar(
            select(func.count()).select_from(Order).where(Order.status == "cancelled")
        )
        anonymous = s.scalar(
            select(func.count()).select_from(Order).where(Order.customer_id.is_(None))
        )
        non_products = s.scalar(
            select(func.count()).select_from(Product).where(Product.is_product.is_(False))
        )
        total = s.scalar(select(func.sum(Order.total)))
    assert cancelled == 3_836  # distinct C invoices
    assert anonymous == 25_900 - 22_190  # README: 22,190 invoices have a customer
    assert non_products is not None
    assert non_products >= 30
    # README: sum(Quantity × UnitPrice) = 9,747,747.93 over all rows; without the 5,268
    # exact duplicate rows (imported once) it is 9,726,006.954, to the penny.
    assert total == Decimal("9726006.954")


def test_cdnow_master(sqlite_shop: Shopkeeper, shared_data: Path) -> None:
    path = shared_data / "cdnow" / "cdnow_master.csv.gz"
    summary = ImportService(sqlite_shop).run("cdnow", [path])
    assert (summary.rows, summary.accepted, summary.rejected) == (69_659, 69_659, 0)
    stored = counts(sqlite_shop)
    assert stored["customers"] == 23_570
    assert stored["orders"] == 69_659  # one order per row; same-day repeats kept apart
    with sqlite_shop.db.transaction() as s:
        total = s.scalar(select(func.sum(Order.total)))
    assert total is not None
    assert abs(float(total) - 2_500_315.63) < 0.01
    # The 1/10 sample is contained in the master file: it adds nothing.
    sample = ImportService(sqlite_shop).run(
        "cdnow", [shared_data / "cdnow" / "cdnow_sample.csv.gz"]
    )
    assert (sample.accepted, sample.orders_created, sample.duplicates) == (0, 0, 6_919)
    assert counts(sqlite_shop) == stored
