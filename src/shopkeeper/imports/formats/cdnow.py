"""CDNOW (Fader & Hardie): one purchase per row — customer, day, number of CDs, dollars.

Each row is one order with one line (sku ``CD``, quantity = number_of_cds, unit price =
dollar_value / number_of_cds, total = dollar_value exactly), in USD, placed at midnight UTC
of its day. The file has no order ids, and a customer can buy several times a day (255 rows
are exact repeats of another), so the id is synthesised as ``cdnow-<customer>-<date>-<n>``
with ``n`` counting that customer's rows on that day in file order: stable across re-imports,
and the 1/10 sample (whose rows are all in the master file) maps onto the same ids.

The per customer-day counter is the one piece of state that grows with the file (one entry
per customer-day; about 68,000 for the master file).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shopkeeper.imports.batch import MONEY, Batch, CustomerDraft, OrderDraft, RowError
from shopkeeper.imports.formats import FileFormat, RowParser, column_indexes, decimal, whole

COLUMNS = ("customer_id", "date", "number_of_cds", "dollar_value")


class Cdnow(FileFormat):
    name = "cdnow"
    description = "CDNOW master or sample (customer_id, date YYYYMMDD, number_of_cds, dollar_value)"
    multiline = False

    def bind(self, header: list[str], path: Path) -> RowParser:
        at = column_indexes(
            header, COLUMNS, ("sample_customer_id",), path=path, format_name="CDNOW"
        )
        i_cust, i_date, i_qty, i_value = (at[name] for name in COLUMNS)
        days: dict[str, datetime] = {}
        counter: dict[tuple[str, str], int] = {}

        def parse(fields: list[str], batch: Batch, line: int, raw: str) -> None:
            customer = fields[i_cust].strip()
            if not customer:
                raise RowError("missing customer_id")
            day_text = fields[i_date].strip()
            placed_at = days.get(day_text)
            if placed_at is None:
                try:
                    placed_at = datetime.strptime(day_text, "%Y%m%d").replace(tzinfo=UTC)
                except ValueError:
                    raise RowError(f"date is not YYYYMMDD: {day_text!r}") from None
                days[day_text] = placed_at
            quantity = whole(fields[i_qty], "number_of_cds")
            if quantity < 1:
                raise RowError(f"number_of_cds must be at least 1, not {quantity}")
            value = decimal(fields[i_value], "dollar_value")
            if value < 0:
                raise RowError(f"dollar_value cannot be negative: {value}")
            key = (customer, day_text)
            n = counter.get(key, 0) + 1
            counter[key] = n
            order_id = f"cdnow-{customer}-{day_text}-{n}"
            batch.orders[order_id] = OrderDraft(
                id=order_id,
                placed_at=placed_at,
                user_id=customer,
                currency="USD",
                total=value.quantize(MONEY),
                lines=[("CD", None, quantity, (value / quantity).quantize(MONEY), True)],
                rows=1,
            )
            batch.rows += 1
            if customer not in batch.customers:
                batch.customer(customer, CustomerDraft(timestamp=placed_at, user_id=customer))
            if "CD" not in batch.products:
                batch.product("CD", title="CD", currency="USD", is_product=True)

        return parse
