"""One chunk of an import, as the store will receive it: orders with lines, customers,
products and events, folded from the rows a format parser hands over.

Format parsers do their own validation and raise :class:`RowError`; the chunk then builds the
Pydantic inputs with ``model_construct`` (no second validation per row), which keeps the hot
path of a 500,000-row import lean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopkeeper.catalog.schemas import ProductIn
from shopkeeper.orders.schemas import OrderIn, OrderLineIn

#: Amounts are stored as Numeric(14, 4); rounding here keeps re-imports byte-equal.
MONEY = Decimal("0.0001")

#: ``(sku, name, quantity, unit_price, is_product)``
Line = tuple[str, str | None, int, Decimal, bool]


#: Every field of an order line, in ``__dict__`` order (all always given by importers).
LINE_FIELDS = frozenset(OrderLineIn.model_fields)
_new = object.__new__
_set = object.__setattr__


def order_line(sku: str, name: str | None, quantity: int, price: Decimal, product: bool) -> Any:
    """An :class:`OrderLineIn` built from values the parser has validated already.

    Equivalent to ``OrderLineIn.model_construct(...)`` with every field given (a test holds
    the two equal), at a fraction of the cost: an import builds one per row, and
    ``model_construct``'s per-field loop was the largest single cost of a 500,000-row import.
    """
    line = _new(OrderLineIn)
    _set(
        line,
        "__dict__",
        {
            "sku": sku,
            "name": name,
            "quantity": quantity,
            "unit_price": price,
            "is_product": product,
        },
    )
    _set(line, "__pydantic_fields_set__", set(LINE_FIELDS))
    _set(line, "__pydantic_extra__", None)
    _set(line, "__pydantic_private__", None)
    return line


class RowError(Exception):
    """A row a parser cannot take; ``reason`` goes to the rejects file."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class OrderDraft:
    """An order being assembled from its rows (one row per line in most exports)."""

    id: str
    placed_at: datetime
    user_id: str | None = None
    email: str | None = None
    channel: str = "web"
    status: str = "completed"
    currency: str | None = None
    total: Decimal | None = None
    revenue: Decimal | None = None
    shipping: Decimal | None = None
    tax: Decimal | None = None
    discount: Decimal | None = None
    coupon: str | None = None
    lines: list[Line] = field(default_factory=list)
    rows: int = 0
    seen: set[tuple[str, ...]] | None = None

    def to_input(self, customer_id: str | None, source: str) -> OrderIn:
        lines: list[OrderLineIn] = [order_line(*line) for line in self.lines]
        total = self.total
        if total is None:
            total = sum((q * p for _, _, q, p, _ in self.lines), Decimal(0)).quantize(MONEY)
        return OrderIn.model_construct(
            id=self.id,
            customer_id=customer_id,
            channel=self.channel,
            status=self.status,
            currency=self.currency,
            total=total,
            revenue=self.revenue,
            shipping=self.shipping,
            tax=self.tax,
            discount=self.discount,
            coupon=self.coupon,
            email=self.email,
            source=source,
            placed_at=self.placed_at,
            lines=lines,
        )


@dataclass(slots=True)
class CustomerDraft:
    """What the file says about one customer; becomes an identity-graph observation."""

    timestamp: datetime
    user_id: str | None = None
    email: str | None = None
    traits: dict[str, Any] | None = None
    consent: dict[str, bool] | None = None


@dataclass
class Batch:
    """The rows of one chunk, folded. ``rows`` counts the rows folded in (duplicates
    excluded); ``duplicates`` counts exact repeats dropped inside the file."""

    orders: dict[str, OrderDraft] = field(default_factory=dict)
    customers: dict[str, CustomerDraft] = field(default_factory=dict)
    products: dict[str, ProductIn] = field(default_factory=dict)
    #: ``(line, raw, payload)`` of each event row, so ingest errors can be rejected by line.
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    rows: int = 0
    duplicates: int = 0

    def __len__(self) -> int:
        return self.rows + self.duplicates + len(self.events)

    def customer(self, key: str, draft: CustomerDraft) -> None:
        """Keep the latest facts about a customer in this chunk (later rows win)."""
        old = self.customers.get(key)
        if old is None or draft.timestamp >= old.timestamp:
            self.customers[key] = draft

    def product(self, sku: str, *, replace: bool = False, **values: Any) -> None:
        """Note a product; the first mention in a chunk names it (descriptions vary)
        unless ``replace`` says this mention is better."""
        if replace or sku not in self.products:
            self.products[sku] = ProductIn.model_construct(sku=sku, **values)

    def carry(self, keep: int) -> Batch:
        """Split off the last ``keep`` orders into a new batch, for the next chunk.

        Exports are grouped by order, but not always perfectly (Online Retail has an invoice
        whose lines are interrupted by another's). Holding the most recent orders back until
        the next chunk lets their stray lines join them instead of replacing them.
        """
        following = Batch()
        if keep <= 0 or not self.orders:
            return following
        held = list(self.orders)[-keep:]
        for order_id in held:
            draft = self.orders.pop(order_id)
            following.orders[order_id] = draft
            following.rows += draft.rows
            self.rows -= draft.rows
        return following
