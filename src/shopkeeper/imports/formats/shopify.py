"""Shopify's orders export and customers export (CSV).

Orders export: one row per line item, grouped by ``Name`` (``#1001``); the order's header
fields (e-mail, statuses, money, dates) are filled on its first row only. The order id is
Shopify's numeric ``Id`` when the export has it (what Shopify's live events carry), else the
``Name``. Status: ``Cancelled at`` set or financial status ``voided`` → ``cancelled``;
``refunded`` / ``partially_refunded`` → the same; ``pending`` / ``authorized`` → ``placed``;
otherwise ``completed``. ``Source`` ``pos`` → channel ``store``. The customer is found by the
order's e-mail. Lines without a SKU use their name as SKU; shipping, tip and fee lines are
recognised as non-product by their name.

Customers export: ``Customer ID`` (optional in older exports) becomes the ``user_id``,
``Email`` an e-mail identity, names, country and tags become traits, and
``Accepts Email Marketing`` (older: ``Accepts Marketing``) the ``email`` consent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from shopkeeper.catalog.codes import is_non_product
from shopkeeper.clock import Clock
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

ORDER_COLUMNS = (
    "Name",
    "Email",
    "Financial Status",
    "Currency",
    "Total",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
)
ORDER_OPTIONAL = (
    "Id",
    "Paid at",
    "Fulfillment Status",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Discount Code",
    "Discount Amount",
    "Cancelled at",
    "Refunded Amount",
    "Source",
)
CUSTOMER_COLUMNS = ("Email",)
CUSTOMER_OPTIONAL = (
    "Customer ID",
    "First Name",
    "Last Name",
    "Accepts Email Marketing",
    "Accepts Marketing",
    "Default Address Country Code",
    "Country Code",
    "Default Address City",
    "City",
    "Total Spent",
    "Total Orders",
    "Tags",
)
STATUS_BY_FINANCIAL = {
    "refunded": "refunded",
    "partially_refunded": "partially_refunded",
    "voided": "cancelled",
    "pending": "placed",
    "authorized": "placed",
}
#: ``get(fields, column)``: a column's stripped text, ``""`` when the export lacks it.
GetField = Callable[[list[str], str], str]
YES = frozenset({"yes", "true", "1", "subscribed"})


def email_of(text: str) -> str | None:
    email = text.strip().lower()
    if not email:
        return None
    if "@" not in email or len(email) > 320:
        raise RowError(f"Email is not an e-mail address: {text!r}")
    return email


class ShopifyOrders(FileFormat):
    name = "shopify-orders"
    description = "Shopify orders export CSV (one row per line item)"

    def bind(self, header: list[str], path: Path) -> RowParser:
        at = column_indexes(
            header, ORDER_COLUMNS, ORDER_OPTIONAL, path=path, format_name="Shopify orders export"
        )
        current: dict[str, str] = {}  # the Name of the order being read -> its order id

        def get(fields: list[str], column: str) -> str:
            index = at.get(column)
            return fields[index].strip() if index is not None else ""

        def parse(fields: list[str], batch: Batch, line: int, raw: str) -> None:
            name = get(fields, "Name")
            if not name:
                raise RowError("missing Name")
            created = get(fields, "Created at")
            if created:
                order = self._header_row(fields, get, name, batch)
                current.clear()
                current[name] = order.id
            else:
                order_id = current.get(name)
                found = batch.orders.get(order_id) if order_id else None
                if found is None:
                    raise RowError(f"line item of order {name} without the order's first row")
                order = found
            quantity = whole(get(fields, "Lineitem quantity") or "1", "Lineitem quantity")
            price = decimal(get(fields, "Lineitem price") or "0", "Lineitem price")
            title = get(fields, "Lineitem name")[:500] or None
            sku = (get(fields, "Lineitem sku") or title or "")[:100]
            if not sku:
                raise RowError("line item without Lineitem sku or Lineitem name")
            product = not is_non_product(sku, title)
            order.lines.append((sku, title, quantity, price.quantize(MONEY), product))
            order.rows += 1
            batch.rows += 1
            if product:
                batch.product(sku, title=title, price=price, currency=order.currency)

        return parse

    @staticmethod
    def _header_row(fields: list[str], get: GetField, name: str, batch: Batch) -> OrderDraft:
        placed_at = timestamp(get(fields, "Created at"), "Created at")
        order_id = (get(fields, "Id") or name)[:100]
        financial = get(fields, "Financial Status").lower()
        status = STATUS_BY_FINANCIAL.get(financial, "completed")
        if get(fields, "Cancelled at"):
            status = "cancelled"
        currency = get(fields, "Currency").upper() or None
        if currency is not None and (len(currency) != 3 or not currency.isalpha()):
            raise RowError(f"Currency is not a 3-letter code: {currency!r}")
        email = email_of(get(fields, "Email"))
        order = OrderDraft(
            id=order_id,
            placed_at=placed_at,
            email=email,
            channel="store" if get(fields, "Source").lower() == "pos" else "web",
            status=status,
            currency=currency,
            total=decimal(get(fields, "Total") or "0", "Total").quantize(MONEY),
            revenue=_money(get(fields, "Subtotal"), "Subtotal"),
            shipping=_money(get(fields, "Shipping"), "Shipping"),
            tax=_money(get(fields, "Taxes"), "Taxes"),
            discount=_money(get(fields, "Discount Amount"), "Discount Amount"),
            coupon=get(fields, "Discount Code")[:100] or None,
        )
        batch.orders[order_id] = order
        if email:
            batch.customer("email:" + email, CustomerDraft(timestamp=placed_at, email=email))
        return order


def _money(text: str, column: str) -> Decimal | None:
    value = optional_decimal(text, column)
    return None if value is None else value.quantize(MONEY)


class ShopifyCustomers(FileFormat):
    name = "shopify-customers"
    description = "Shopify customers export CSV"

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock

    def bind(self, header: list[str], path: Path) -> RowParser:
        at = column_indexes(
            header,
            CUSTOMER_COLUMNS,
            CUSTOMER_OPTIONAL,
            path=path,
            format_name="Shopify customers export",
        )
        now = self.clock.now() if self.clock else datetime.now(UTC)

        def get(fields: list[str], *columns: str) -> str:
            for column in columns:
                index = at.get(column)
                if index is not None and fields[index].strip():
                    return fields[index].strip()
            return ""

        def parse(fields: list[str], batch: Batch, line: int, raw: str) -> None:
            user_id = get(fields, "Customer ID")[:320] or None
            email = email_of(get(fields, "Email"))
            if user_id is None and email is None:
                raise RowError("neither Customer ID nor Email")
            traits: dict[str, object] = {}
            for trait, columns in (
                ("first_name", ("First Name",)),
                ("last_name", ("Last Name",)),
                ("country", ("Default Address Country Code", "Country Code")),
                ("city", ("Default Address City", "City")),
            ):
                value = get(fields, *columns)
                if value:
                    traits[trait] = value
            tags = get(fields, "Tags")
            if tags:
                traits["tags"] = [t.strip() for t in tags.split(",") if t.strip()]
            accepts = get(fields, "Accepts Email Marketing", "Accepts Marketing").lower()
            consent = {"email": accepts in YES} if accepts else None
            key = f"user:{user_id}" if user_id else f"email:{email}"
            if key in batch.customers:
                batch.duplicates += 1
                return
            batch.customers[key] = CustomerDraft(
                timestamp=now, user_id=user_id, email=email, traits=traits, consent=consent
            )
            batch.rows += 1

        return parse
