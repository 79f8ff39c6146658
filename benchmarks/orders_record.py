"""Timing check (not a test): record the whole UCI Online Retail set as orders on SQLite.

25,900 invoices with 541,909 lines go through ``OrderService.record`` in one transaction,
then again (every order unchanged), then 4,070 products through ``CatalogService.upsert``
twice, then a partial event batch of 1,000 changed products.
Inputs are built with ``model_construct`` as the importers do, so the timings are the
service's own. Run::

    .venv/bin/python benchmarks/orders_record.py [path/to/online_retail.csv.gz] [database-url]
"""

from __future__ import annotations

import csv
import gzip
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from shopkeeper.application import Shopkeeper
from shopkeeper.catalog.codes import is_non_product
from shopkeeper.catalog.schemas import ProductIn
from shopkeeper.orders.schemas import OrderIn, OrderLineIn
from shopkeeper.settings import Settings

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/online-retail/online_retail.csv.gz"


def load(path: Path) -> tuple[list[OrderIn], list[ProductIn]]:
    lines: dict[str, list[OrderLineIn]] = defaultdict(list)
    placed: dict[str, datetime] = {}
    products: dict[str, ProductIn] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            invoice, sku, name = row["InvoiceNo"], row["StockCode"], row["Description"] or None
            price = Decimal(row["UnitPrice"])
            flag = not is_non_product(sku, name)
            lines[invoice].append(
                OrderLineIn.model_construct(
                    sku=sku,
                    name=name,
                    quantity=int(row["Quantity"]),
                    unit_price=price,
                    is_product=flag,
                )
            )
            placed.setdefault(invoice, datetime.fromisoformat(row["InvoiceDate"]))
            products.setdefault(
                sku, ProductIn.model_construct(sku=sku, title=name, price=price, is_product=flag)
            )
    orders = [
        OrderIn.model_construct(
            id=invoice,
            status="cancelled" if invoice.startswith("C") else "completed",
            currency="GBP",
            total=sum((line.quantity * line.unit_price for line in invoice_lines), Decimal(0)),
            source="online_retail",
            placed_at=placed[invoice],
            lines=invoice_lines,
        )
        for invoice, invoice_lines in lines.items()
    ]
    return orders, list(products.values())


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else DEFAULT
    url = sys.argv[2] if len(sys.argv) > 2 else None
    started = time.perf_counter()
    orders, products = load(path)
    n_lines = sum(len(order.lines) for order in orders)
    print(
        f"parsed {len(orders):,} orders / {n_lines:,} lines in {time.perf_counter() - started:.1f}s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        shop = Shopkeeper.open(Settings(data_dir=Path(tmp), database_url=url, log_json=False))
        shop.migrate()
        for label in ("first record", "second record"):
            started, cpu = time.perf_counter(), time.process_time()
            with shop.db.transaction() as session:
                result = shop.orders.record(session, orders)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(f"{label}: {wall:.2f}s wall, {cpu:.2f}s CPU {result}")
        for label in ("catalog upsert", "catalog again"):
            started = time.perf_counter()
            with shop.db.transaction() as session:
                upserted = shop.catalog.upsert(session, products, partial=False)
            print(f"{label}: {1000 * (time.perf_counter() - started):.0f}ms {upserted}")
        events = [
            ProductIn.model_construct(
                sku=p.sku, price=Decimal("9.99"), category_path="Home > Gifts"
            )
            for p in products[:1_000]
        ]
        started = time.perf_counter()
        with shop.db.transaction() as session:
            upserted = shop.catalog.upsert(session, events, partial=True)
        print(f"event batch of 1,000: {1000 * (time.perf_counter() - started):.0f}ms {upserted}")
        shop.close()


if __name__ == "__main__":
    main()
