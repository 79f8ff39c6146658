"""Online Retail imports on both backends: mapping, idempotency, wrong layout, XLSX."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from shopkeeper.application import Shopkeeper
from shopkeeper.errors import Invalid
from shopkeeper.imports.service import ImportService
from shopkeeper.models import Customer, Order, OrderLine, Product

from .conftest import OR_HEADER, OR_ROWS, counts, write_csv


def test_rows_map_to_orders_customers_and_products(shop: Shopkeeper, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "retail.csv", OR_HEADER, OR_ROWS)
    summary = ImportService(shop).run("online-retail", [path])
    assert (summary.rows, summary.accepted, summary.duplicates, summary.rejected) == (9, 8, 1, 0)
    assert summary.orders_created == 6
    assert summary.customers_created == 2
    assert counts(shop) == {
        "customers": 2,
        "orders": 6,
        "order_lines": 8,
        "products": 6,
        "events": 0,
    }
    with shop.db.transaction() as s:
        orders = {o.id: o for o in s.scalars(select(Order))}
        lines = list(s.scalars(select(OrderLine).where(OrderLine.order_id == "536366")))
        products = {p.sku: p for p in s.scalars(select(Product))}
        customer = s.get(Customer, orders["536366"].customer_id)
    assert orders["C536379"].status == "cancelled"
    assert orders["536365"].status == "completed"
    assert orders["536414"].customer_id is None  # anonymous order
    assert orders["536365"].total == Decimal("35.64")  # the duplicate line counted once
    # UK summer time: 10:00 in London is 09:00 UTC.
    assert orders["536366"].placed_at == datetime(2011, 6, 1, 9, 0, tzinfo=UTC)
    assert orders["536365"].placed_at == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)
    assert orders["536366"].currency == "GBP"
    assert {line.sku: line.is_product for line in lines} == {"POST": False, "22633": True}
    assert products["POST"].is_product is False
    assert products["B"].is_product is False
    assert products["85123A"].title == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert customer is not None
    assert customer.traits.get("country") == "France"


def test_importing_twice_changes_nothing(shop: Shopkeeper, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "retail.csv", OR_HEADER, OR_ROWS)
    ImportService(shop).run("online-retail", [path])
    before = counts(shop)
    again = ImportService(shop).run("online-retail", [path])
    assert counts(shop) == before
    assert again.accepted == 0
    assert again.duplicates == len(OR_ROWS)
    assert (again.orders_created, again.orders_updated, again.orders_unchanged) == (0, 0, 6)
    assert again.customers_created == 0


def test_overlapping_later_file_adds_only_the_new(shop: Shopkeeper, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "jan.csv", OR_HEADER, OR_ROWS[:5])
    second = write_csv(tmp_path / "feb.csv", OR_HEADER, OR_ROWS[3:])
    ImportService(shop).run("online-retail", [first])
    later = ImportService(shop).run("online-retail", [second])
    assert later.orders_created == 4
    assert later.orders_unchanged == 1
    assert later.duplicates == 2
    assert counts(shop)["orders"] == 6


def test_small_chunks_keep_split_invoices_whole(shop: Shopkeeper, tmp_path: Path) -> None:
    rows = [
        (f"5{n // 3:05d}", f"SKU{n}", "X", "1", "2011-01-04 10:00:00", "1.00", "", "UK")
        for n in range(3000)
    ]
    late_order = rows[990][0]  # its three lines are rows 990-992; the chunk ends at 1,000
    rows.insert(1010, (late_order, "LATE", "X", "1", "2011-01-04 10:00:00", "1.00", "", "UK"))
    path = write_csv(tmp_path / "big.csv", OR_HEADER, rows)
    summary = ImportService(shop, chunk_rows=1000).run("online-retail", [path])
    assert summary.accepted == 3001
    with shop.db.transaction() as s:
        skus = set(s.scalars(select(OrderLine.sku).where(OrderLine.order_id == late_order)))
    assert skus == {"SKU990", "SKU991", "SKU992", "LATE"}


def test_wrong_layout_fails_at_once_naming_the_columns(shop: Shopkeeper, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", OR_HEADER, OR_ROWS)
    bad = write_csv(tmp_path / "bad.csv", ("customer_id", "date"), [("1", "19970101")])
    with pytest.raises(Invalid, match="InvoiceNo, StockCode, Description") as caught:
        ImportService(shop).run("online-retail", [good, bad])
    assert "found: customer_id, date" in caught.value.message
    assert counts(shop)["orders"] == 0  # nothing written: checked before the first row


def test_online_retail_ii_xlsx(shop: Shopkeeper, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(
        ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
         "Customer ID", "Country"]
    )  # fmt: skip
    sheet.append(["489434", "85048", "15CM CHRISTMAS", 12, datetime(2009, 12, 1, 7, 45), 6.95,
                  13085.0, "United Kingdom"])  # fmt: skip
    sheet.append(["489434", "79323P", "PINK CHERRY LIGHTS", 12, datetime(2009, 12, 1, 7, 45),
                  6.75, 13085.0, "United Kingdom"])  # fmt: skip
    sheet.append(["489435", "22350", "CAT BOWL", "twelve", datetime(2009, 12, 1, 7, 46), 2.55,
                  None, "United Kingdom"])  # fmt: skip
    path = tmp_path / "online_retail_II.xlsx"
    book.save(path)
    summary = ImportService(shop).run("online-retail", [path], rejects_path=tmp_path / "r.csv")
    assert (summary.accepted, summary.rejected) == (2, 1)
    assert counts(shop)["customers"] == 1
    with shop.db.transaction() as s:
        order = s.get(Order, "489434")
    assert order is not None
    assert order.total == Decimal("164.4")
