"""UCI Online Retail I and II (CSV or XLSX): one row per invoice line.

Mapping (see ``docs/import-formats.md``):

- Invoice number → order id. ``C…`` invoices are cancellations: an order with status
  ``cancelled`` (its quantities stay negative, as in the source). ``A…`` invoices (bad-debt
  adjustments) and the stock write-offs (negative quantity, price 0, no customer) are kept
  as ordinary ``completed`` orders, so all 25,900 invoices of Online Retail I are orders and
  revenue reconciles with the file; their lines are non-product (``B``) or zero-priced.
- InvoiceDate (UK local time) → ``placed_at`` in UTC; currency GBP; channel ``web``.
- CustomerID → the customer's ``user_id`` (trait ``country`` from Country); no CustomerID →
  an anonymous order.
- StockCode → product (title from the first description seen); postage, fees and other
  non-product codes are recognised with :func:`~shopkeeper.catalog.codes.is_non_product`.
- Exact duplicate rows are imported once and counted as duplicates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from shopkeeper.catalog.codes import is_non_product
from shopkeeper.imports.batch import Batch, CustomerDraft, OrderDraft, RowError
from shopkeeper.imports.formats import FileFormat, RowParser, column_indexes, decimal, whole

LONDON = ZoneInfo("Europe/London")
ZERO = Decimal(0)
#: Past this many skus or customers remembered, forget them (memory stays bounded; the cost
#: is an extra idempotent upsert of a product or an observation of a customer).
MEMORY_CAP = 200_000

#: Column names of version I and version II, in the same order of meaning.
LAYOUT_I = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
LAYOUT_II = (
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
)


def london_to_utc(text: str) -> datetime:
    """``2010-12-01 08:26:00`` (or ``12/1/2010 8:26``), UK local time, as UTC."""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        try:
            local = datetime.strptime(text.strip(), "%m/%d/%Y %H:%M")
        except ValueError:
            raise RowError(f"InvoiceDate is not a date-time: {text!r}") from None
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=LONDON).astimezone(UTC)


class OnlineRetail(FileFormat):
    name = "online-retail"
    description = "UCI Online Retail I or II (CSV, CSV.gz or XLSX)"
    multiline = False

    def bind(self, header: list[str], path: Path) -> RowParser:
        layout = LAYOUT_II if "Invoice" in header and "InvoiceNo" not in header else LAYOUT_I
        at = column_indexes(header, layout, (), path=path, format_name="Online Retail")
        i_inv, i_sku, i_desc, i_qty, i_date, i_price, i_cust, i_country = (
            at[name] for name in layout
        )
        inv_col, price_col, cust_col = layout[0], layout[5], layout[6]
        # sku -> is a product; also "already announced in this file". With the customers
        # already observed, the only state that grows with the file, bounded by MEMORY_CAP.
        non_product: dict[str, bool] = {}
        observed: set[str] = set()
        dates: dict[str, datetime] = {}

        def parse(fields: list[str], batch: Batch, line: int, raw: str) -> None:
            invoice = fields[i_inv].strip()
            if not invoice:
                raise RowError(f"missing {inv_col}")
            if len(invoice) > 100:
                raise RowError(f"{inv_col} is longer than 100 characters")
            sku = fields[i_sku].strip()
            if not sku:
                raise RowError("missing StockCode")
            if len(sku) > 100:
                raise RowError("StockCode is longer than 100 characters")
            quantity = whole(fields[i_qty], "Quantity")
            price = decimal(fields[i_price], price_col)
            date_text = fields[i_date]
            placed_at = dates.get(date_text)
            if placed_at is None:
                if not date_text.strip():
                    raise RowError("missing InvoiceDate")
                placed_at = london_to_utc(date_text)
                if len(dates) > 4096:
                    dates.clear()
                dates[date_text] = placed_at
            customer = fields[i_cust].strip()
            if customer.endswith(".0"):
                customer = customer[:-2]
            if customer and not customer.isdigit():
                raise RowError(f"{cust_col} is not a customer number: {customer!r}")

            order = batch.orders.get(invoice)
            if order is None:
                order = OrderDraft(
                    id=invoice,
                    placed_at=placed_at,
                    user_id=customer or None,
                    currency="GBP",
                    status="cancelled" if invoice[0] in "Cc" else "completed",
                    seen=set(),
                )
                batch.orders[invoice] = order
                if customer and customer not in observed:
                    if len(observed) >= MEMORY_CAP:
                        observed.clear()
                    observed.add(customer)
                    batch.customer(
                        customer,
                        CustomerDraft(
                            timestamp=placed_at,
                            user_id=customer,
                            traits={"country": fields[i_country].strip()},
                        ),
                    )
            key = tuple(fields)
            seen = order.seen
            assert seen is not None
            if key in seen:
                batch.duplicates += 1
                return
            seen.add(key)
            title = fields[i_desc].strip()[:500] or None
            product = non_product.get(sku)
            if product is None:
                # First mention in the file names the product: the same on every re-import,
                # so a second run leaves the catalog untouched.
                product = not is_non_product(sku, title)
                if len(non_product) >= MEMORY_CAP:
                    non_product.clear()
                non_product[sku] = product
                batch.product(
                    sku,
                    title=title,
                    price=price if price > ZERO and quantity > 0 else None,
                    currency="GBP",
                    is_product=product,
                )
            order.lines.append((sku, title, quantity, price, product))
            order.rows += 1
            batch.rows += 1

        return parse
