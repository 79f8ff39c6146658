"""Helpers for import tests: small files written on the fly, and table counts."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.models import Customer, Event, Order, OrderLine, Product

OR_HEADER = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)

#: A small Online Retail file with each quirk once: a cancellation, an exact duplicate row,
#: an anonymous invoice, postage, a stock write-off and a bad-debt adjustment.
OR_ROWS = [
    ("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6", "2010-12-01 08:26:00", "2.55", "17850", "United Kingdom"),  # noqa: E501
    ("536365", "71053", "WHITE METAL LANTERN", "6", "2010-12-01 08:26:00", "3.39", "17850", "United Kingdom"),  # noqa: E501
    ("536365", "71053", "WHITE METAL LANTERN", "6", "2010-12-01 08:26:00", "3.39", "17850", "United Kingdom"),  # noqa: E501
    ("536366", "POST", "POSTAGE", "1", "2011-06-01 10:00:00", "18.00", "12583", "France"),
    ("536366", "22633", "HAND WARMER UNION JACK", "6", "2011-06-01 10:00:00", "1.85", "12583", "France"),  # noqa: E501
    ("C536379", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "-2", "2011-06-02 09:41:00", "2.55", "17850", "United Kingdom"),  # noqa: E501
    ("536414", "22139", "", "56", "2011-06-03 11:52:00", "0", "", "United Kingdom"),
    ("536420", "22139", "check", "-20", "2011-06-03 12:00:00", "0", "", "United Kingdom"),
    ("A563185", "B", "Adjust bad debt", "1", "2011-08-12 14:50:00", "11062.06", "", "United Kingdom"),  # noqa: E501
]  # fmt: skip


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def counts(shop: Shopkeeper) -> dict[str, int]:
    with shop.db.transaction() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Customer, Order, OrderLine, Product, Event)
        }
