"""The documented generic schemas (CSV or Parquet): customers, products, orders, events.

``docs/import-formats.md`` is the reference for the columns; the tuples below are the code's
copy of it (a test checks that the document names every column).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopkeeper.catalog.codes import is_non_product, normalise_category
from shopkeeper.clock import Clock
from shopkeeper.customers.schemas import CONSENT_PURPOSES
from shopkeeper.imports.batch import MONEY, Batch, CustomerDraft, OrderDraft, RowError
from shopkeeper.imports.formats import (
    FileFormat,
    RowParser,
    column_indexes,
    decimal,
    optional_decimal,
    timestamp,
    whole,
)
from shopkeeper.models import CHANNELS, STATUSES

CUSTOMER_COLUMNS = ("user_id",)
CUSTOMER_OPTIONAL = (
    "email",
    "first_name",
    "last_name",
    "country",
    "city",
    "created_at",
    "traits",
    *(f"consent_{purpose}" for purpose in CONSENT_PURPOSES),
)
PRODUCT_COLUMNS = ("sku",)
PRODUCT_OPTIONAL = (
    "title",
    "category_path",
    "brand",
    "price",
    "currency",
    "price_tier",
    "in_stock",
    "is_product",
    "attributes",
)
ORDER_COLUMNS = ("order_id", "placed_at", "sku", "quantity", "unit_price")
ORDER_OPTIONAL = (
    "user_id",
    "email",
    "status",
    "channel",
    "currency",
    "total",
    "shipping",
    "tax",
    "discount",
    "coupon",
    "name",
    "is_product",
)
EVENT_COLUMNS = ("type", "timestamp")
EVENT_OPTIONAL = ("event", "userId", "anonymousId", "messageId", "properties", "traits", "context")

TRUE = frozenset({"true", "1", "yes", "y", "t"})
FALSE = frozenset({"false", "0", "no", "n", "f"})


def boolean(text: str, column: str) -> bool | None:
    text = text.strip().lower()
    if not text:
        return None
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise RowError(f"{column} is not true/false: {text!r}")


def json_object(text: str, column: str) -> dict[str, Any] | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise RowError(f"{column} is not JSON") from None
    if not isinstance(value, dict):
        raise RowError(f"{column} must be a JSON object")
    return value


class _Columns:
    """Column access by name for one bound header."""

    def __init__(self, at: dict[str, int]) -> None:
        self.at = at

    def get(self, fields: list[str], column: str) -> str:
        index = self.at.get(column)
        return fields[index].strip() if index is not None else ""

    def required(self, fields: list[str], column: str, limit: int = 100) -> str:
        value = self.get(fields, column)
        if not value:
            raise RowError(f"missing {column}")
        if len(value) > limit:
            raise RowError(f"{column} is longer than {limit} characters")
        return value


class GenericCustomers(FileFormat):
    name = "customers"
    description = "generic customers (CSV/Parquet, docs/import-formats.md)"

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock

    def bind(self, header: list[str], path: Path) -> RowParser:
        cols = _Columns(
            column_indexes(
                header, CUSTOMER_COLUMNS, CUSTOMER_OPTIONAL, path=path, format_name="customers"
            )
        )
        now = self.clock.now() if self.clock else datetime.now(UTC)

        def parse(fields: list[str], batch: Batch, line: int, raw: str) -> None:
            user_id = cols.required(fields, "user_id", 320)
            email = cols.get(fields, "email").lower() or None
            if email is not None and "@" not in email:
                raise RowError(f"email is not an e-mail address: {email!r}")
            created = cols.get(fields, "created_at")
            traits = json_object(cols.get(fields, "traits"), "traits") or {}
            for trait in ("first_name", "last_name", "country", "city"):
                value = cols.get(fields, trait)
                if value:
                    traits[trait] = value
            consent = {}
            for purpose in CONSENT_PURPOSES:
                granted = boolean(cols.get(fields, f"consent_{purpose}"), f"consent_{purpose}")
                if granted is not None:
                    consent[purpose] = granted
            if user_id in batch.customers:
                batch.duplicates += 1
                return
            batch.customers[user_id] = CustomerDraft(
                timestamp=timestamp(created, "created_at") if created else now,
                user_id=user_id,
                email=email,
                traits=traits or None,
                consent=consent or None,
            )
            batch.rows += 1

        return parse


class GenericProducts(FileFormat):
    name = "products"
    description = "generic products (CSV/Parquet, docs/import-formats.md)"
    partial_products = False

    def bind(self, header: list[str], path: Path) -> RowParser:
        cols = _Columns(
            column_indexes(
                header, PRODUCT_COLUMNS, PRODUCT_OPTIONAL, path=path, format_name="products"
            )
        )

        def parse(fields: list[str], batch: Batch, line: int, raw: str) -> None:
            sku = cols.required(fields, "sku")
            price = optional_decimal(cols.get(fields, "price"), "price")
            if price is not None and price < 0:
                raise RowError("price cannot be negative")
            currency = cols.get(fields, "currency").upper() or None
            if currency is not None and len(currency) != 3:
                raise RowError(f"currency is not a 3-letter code: {currency!r}")
            tier = cols.get(fields, "price_tier").lower() or None
            if tier is not None and tier not in ("budget", "mid", "premium"):
                raise RowError(f"price_tier must be budget, mid or premium, not {tier!r}")
            title = cols.get(fields, "title")[:500] or None
            is_product = boolean(cols.get(fields, "is_product"), "is_product")
            if sku in batch.products:
                batch.duplicates += 1
                return
            batch.product(
                sku,
                title=title,
                category_path=normalise_category(cols.get(fields, "category_path") or None),
                brand=cols.get(fields, "brand")[:200] or None,
                price=price,
                currency=currency,
                price_tier=tier,
                in_stock=boolean(cols.get(fields, "in_stock"), "in_stock"),
                is_product=(not is_non_product(sku, title)) if is_product is None else is_product,
                attributes=json_object(cols.get(fields, "attributes"), "attributes"),
            )
            batch.rows += 1

        return parse


class GenericOrders(FileFormat):
    name = "orders"
    description = "generic orders, one row per line (CSV/Parquet, docs/import-formats.md)"

    def bind(self, header: list[str], path: Path) -> RowParser:
        cols = _Columns(
            column_indexes(header, ORDER_COLUMNS, ORDER_OPTIONAL, path=path, format_name="orders")
        )

        def parse(fields: list[str], batch: Batch, line: int, raw: str) -> None:
            order_id = cols.required(fields, "order_id")
            placed_at = timestamp(cols.get(fields, "placed_at"), "placed_at")
            sku = cols.required(fields, "sku")
            quantity = whole(cols.get(fields, "quantity"), "quantity")
            price = decimal(cols.get(fields, "unit_price"), "unit_price").quantize(MONEY)
            name = cols.get(fields, "name")[:500] or None
            flag = boolean(cols.get(fields, "is_product"), "is_product")
            is_product = (not is_non_product(sku, name)) if flag is None else flag
            order = batch.orders.get(order_id)
            if order is None:
                status = cols.get(fields, "status").lower() or "completed"
                if status not in STATUSES:
                    raise RowError(f"status must be one of {', '.join(STATUSES)}")
                channel = cols.get(fields, "channel").lower() or "web"
                if channel not in CHANNELS:
                    raise RowError(f"channel must be one of {', '.join(CHANNELS)}")
                currency = cols.get(fields, "currency").upper() or None
                if currency is not None and len(currency) != 3:
                    raise RowError(f"currency is not a 3-letter code: {currency!r}")
                total = optional_decimal(cols.get(fields, "total"), "total")
                order = OrderDraft(
                    id=order_id,
                    placed_at=placed_at,
                    user_id=cols.get(fields, "user_id")[:320] or None,
                    email=cols.get(fields, "email").lower() or None,
                    status=status,
                    channel=channel,
                    currency=currency,
                    total=None if total is None else total.quantize(MONEY),
                    shipping=optional_decimal(cols.get(fields, "shipping"), "shipping"),
                    tax=optional_decimal(cols.get(fields, "tax"), "tax"),
                    discount=optional_decimal(cols.get(fields, "discount"), "discount"),
                    coupon=cols.get(fields, "coupon")[:100] or None,
                )
                batch.orders[order_id] = order
                if order.user_id:
                    batch.customer(
                        order.user_id,
                        CustomerDraft(timestamp=placed_at, user_id=order.user_id),
                    )
            order.lines.append((sku, name, quantity, price, is_product))
            order.rows += 1
            batch.rows += 1
            if is_product:
                batch.product(sku, title=name, currency=order.currency)

        return parse


class GenericEvents(FileFormat):
    name = "events"
    description = "generic Segment-shaped events (CSV/Parquet, docs/import-formats.md)"

    def bind(self, header: list[str], path: Path) -> RowParser:
        cols = _Columns(
            column_indexes(header, EVENT_COLUMNS, EVENT_OPTIONAL, path=path, format_name="events")
        )

        def parse(fields: list[str], batch: Batch, line: int, raw: str) -> None:
            payload: dict[str, Any] = {
                "type": cols.required(fields, "type"),
                "timestamp": cols.required(fields, "timestamp"),
            }
            for column in ("event", "userId", "anonymousId", "messageId"):
                value = cols.get(fields, column)
                if value:
                    payload[column] = value
            for column in ("properties", "traits", "context"):
                value_obj = json_object(cols.get(fields, column), column)
                if value_obj is not None:
                    payload[column] = value_obj
            if "messageId" not in payload:
                # A stable id, so importing the file again deduplicates instead of doubling.
                digest = hashlib.sha256("\x1f".join(fields).encode("utf-8", "replace"))
                payload["messageId"] = "import-" + digest.hexdigest()[:32]
            batch.events.append((line, raw, payload))

        return parse
