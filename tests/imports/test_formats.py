"""CDNOW, Shopify and the generic schemas on both backends; the fast line constructor."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from shopkeeper.application import Shopkeeper
from shopkeeper.imports.batch import order_line
from shopkeeper.imports.rejects import read_rejects
from shopkeeper.imports.service import ImportService
from shopkeeper.models import Customer, Event, Identity, Order, OrderLine, Product
from shopkeeper.orders.schemas import OrderLineIn

from .conftest import counts, write_csv


def test_fast_order_line_equals_model_construct() -> None:
    fast = order_line("SKU", "Name", 2, Decimal("1.50"), True)
    slow = OrderLineIn.model_construct(
        sku="SKU", name="Name", quantity=2, unit_price=Decimal("1.50"), is_product=True
    )
    assert fast == slow
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_fields_set == slow.model_fields_set


def test_cdnow_ids_are_stable_per_customer_day(shop: Shopkeeper, tmp_path: Path) -> None:
    rows = [
        ("00001", "19970101", "1", "11.77"),
        ("00002", "19970112", "3", "10.00"),
        ("00002", "19970112", "3", "10.00"),
        ("00003", "1997-01-02", "1", "5"),
    ]
    path = write_csv(
        tmp_path / "cdnow.csv", ("customer_id", "date", "number_of_cds", "dollar_value"), rows
    )
    summary = ImportService(shop).run("cdnow", [path], rejects_path=tmp_path / "r.csv")
    assert (summary.accepted, summary.rejected) == (3, 1)
    with shop.db.transaction() as s:
        ids = sorted(s.scalars(select(Order.id)))
        line = s.scalars(select(OrderLine).where(OrderLine.order_id == ids[1])).one()
        total = s.get(Order, ids[1])
    assert ids == ["cdnow-00001-19970101-1", "cdnow-00002-19970112-1", "cdnow-00002-19970112-2"]
    assert (line.sku, line.quantity, line.unit_price) == ("CD", 3, Decimal("3.3333"))
    assert total is not None
    assert total.total == Decimal("10.00")
    assert total.currency == "USD"
    assert read_rejects(tmp_path / "r.csv")[0]["reason"].startswith("date is not YYYYMMDD")
    again = ImportService(shop).run("cdnow", [path], rejects_path=tmp_path / "r2.csv")
    assert (again.accepted, again.orders_unchanged) == (0, 3)


SHOPIFY_HEADER = (
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Currency", "Subtotal",
    "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Created at",
    "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku", "Cancelled at",
    "Refunded Amount", "Source", "Id",
)  # fmt: skip


def test_shopify_orders_and_customers(shop: Shopkeeper, tmp_path: Path) -> None:
    customers = write_csv(
        tmp_path / "customers_export.csv",
        ("Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
         "Default Address Country Code", "Total Spent", "Total Orders", "Tags"),
        [("7001", "Ada", "Byron", "Ada@Example.com", "yes", "GB", "40.00", "1", "vip, early")],
    )  # fmt: skip
    row = dict.fromkeys(SHOPIFY_HEADER, "")
    first = {**row, "Name": "#1001", "Email": "ada@example.com", "Financial Status": "paid",
             "Currency": "EUR", "Subtotal": "30.00", "Shipping": "5.00", "Taxes": "4.50",
             "Total": "39.50", "Created at": "2024-01-05 10:30:00 +0100", "Source": "web",
             "Lineitem quantity": "2", "Lineitem name": "Linen shirt", "Lineitem price": "15.00",
             "Lineitem sku": "SHIRT-1", "Id": "5550001"}  # fmt: skip
    second = {**row, "Name": "#1001", "Lineitem quantity": "1", "Lineitem name": "Shipping",
              "Lineitem price": "5.00"}  # fmt: skip
    pos = {**first, "Name": "#1002", "Email": "", "Financial Status": "refunded",
           "Source": "pos", "Id": "5550002"}  # fmt: skip
    orders = write_csv(
        tmp_path / "orders_export.csv",
        SHOPIFY_HEADER,
        [[r[c] for c in SHOPIFY_HEADER] for r in (first, second, pos)],
    )
    service = ImportService(shop)
    assert service.run("shopify-customers", [customers]).accepted == 1
    summary = service.run("shopify-orders", [orders])
    assert (summary.accepted, summary.orders_created) == (3, 2)
    with shop.db.transaction() as s:
        paid = s.get(Order, "5550001")
        refunded = s.get(Order, "5550002")
        lines = {l.sku: l.is_product for l in s.scalars(select(OrderLine))}  # noqa: E741
        customer_id = s.scalar(
            select(Identity.customer_id).where(Identity.kind == "user_id", Identity.value == "7001")
        )
        customer = s.get(Customer, customer_id)
    assert paid is not None
    assert refunded is not None
    assert customer is not None
    assert paid.customer_id == customer.id  # found by e-mail
    assert (paid.status, paid.channel, paid.total, paid.tax) == (
        "completed", "web", Decimal("39.50"), Decimal("4.50"),
    )  # fmt: skip
    assert paid.placed_at.hour == 9  # 10:30 +01:00 is 09:30 UTC
    assert (refunded.status, refunded.channel, refunded.customer_id) == ("refunded", "store", None)
    assert lines == {"SHIRT-1": True, "Shipping": False}
    assert customer.traits.get("first_name") == "Ada"


def test_generic_products_customers_orders(shop: Shopkeeper, tmp_path: Path) -> None:
    products = write_csv(
        tmp_path / "products.csv",
        ("sku", "title", "category_path", "brand", "price", "currency", "in_stock"),
        [("P1", "Dress", "Women > Dresses", "Acme", "59.90", "EUR", "true"),
         ("P2", "Socks", "men/socks", "", "-1", "EUR", "")],
    )  # fmt: skip
    customers = write_csv(
        tmp_path / "customers.csv",
        ("user_id", "email", "first_name", "country", "consent_email"),
        [("u1", "u1@example.com", "Uma", "DE", "true"), ("", "x@example.com", "", "", "")],
    )
    orders = write_csv(
        tmp_path / "orders.csv",
        ("order_id", "user_id", "placed_at", "status", "currency", "sku", "quantity", "unit_price"),
        [("o1", "u1", "2024-03-01T10:00:00Z", "completed", "EUR", "P1", "1", "59.90"),
         ("o1", "u1", "2024-03-01T10:00:00Z", "completed", "EUR", "SHIPPING", "1", "4.90"),
         ("o2", "", "2024-03-02T10:00:00Z", "lost", "EUR", "P1", "1", "59.90")],
    )  # fmt: skip
    service = ImportService(shop)
    rejects = tmp_path / "rejects.csv"
    assert service.run("products", [products], rejects_path=rejects).accepted == 1
    assert service.run("customers", [customers], rejects_path=tmp_path / "c.csv").accepted == 1
    summary = service.run("orders", [orders], rejects_path=tmp_path / "o.csv")
    assert (summary.accepted, summary.rejected, summary.orders_created) == (2, 1, 1)
    assert read_rejects(tmp_path / "o.csv")[0]["reason"].startswith("status must be one of")
    with shop.db.transaction() as s:
        product = s.get(Product, "P1")
        order = s.get(Order, "o1")
        customer_id = s.scalar(select(Identity.customer_id).where(Identity.value == "u1"))
    assert product is not None
    assert product.category_path == "women/dresses"
    assert order is not None
    assert order.customer_id == customer_id is not None
    assert order.total == Decimal("64.80")


def test_generic_events_csv_and_parquet(shop: Shopkeeper, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    header = ("type", "event", "userId", "anonymousId", "timestamp", "messageId", "properties")
    rows = [
        ("track", "Product Viewed", "u1", "", "2024-03-01T10:00:00Z", "m1", '{"sku": "P1"}'),
        ("track", "Product Viewed", "", "a1", "2024-03-01T10:01:00Z", "", "{}"),
        ("track", "Product Viewed", "u1", "", "2024-03-01T10:02:00Z", "m3", "not json"),
    ]  # fmt: skip
    path = write_csv(tmp_path / "events.csv", header, rows)
    service = ImportService(shop)
    summary = service.run("events", [path], rejects_path=tmp_path / "r.csv")
    assert (summary.accepted, summary.rejected) == (2, 1)
    again = service.run("events", [path], rejects_path=tmp_path / "r2.csv")
    assert (again.accepted, again.duplicates) == (0, 2)
    table = pa.table({name: [row[i] for row in rows[:2]] for i, name in enumerate(header)})
    pq.write_table(table, tmp_path / "events.parquet")
    parquet = service.run("events", [tmp_path / "events.parquet"])
    assert (parquet.accepted, parquet.duplicates) == (0, 2)  # same rows, same ids
    assert counts(shop)["events"] == 2
    with shop.db.transaction() as s:
        assert s.scalar(select(Event.sku).where(Event.message_id == "m1")) == "P1"
