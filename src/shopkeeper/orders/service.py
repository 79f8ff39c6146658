"""The orders' rules: bulk, idempotent recording of orders with their lines, and status
changes from ``Order Cancelled`` / ``Order Refunded`` events.

Live events, importers and the shop simulator all record through :meth:`OrderService.record`,
so an order that arrives twice (an event replayed, an import re-run, or an event and an
import of the same order) is stored once. Recording reads the batch's existing headers and
lines with one ``SELECT`` each (per 5,000 ids), then writes with executemany statements.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopkeeper.catalog.codes import is_non_product
from shopkeeper.catalog.repository import chunks
from shopkeeper.errors import Invalid
from shopkeeper.models import STATUSES, Customer
from shopkeeper.orders import repository
from shopkeeper.orders.schemas import OrderIn

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

__all__ = ["OrderService", "RecordResult"]

#: Amounts are stored as ``Numeric(14, 4)``; inputs are rounded to that scale so that a
#: replayed order compares equal to what was stored.
MONEY_SCALE = Decimal("0.0001")
REFUND_STATUSES = ("refunded", "partially_refunded")


@dataclass(frozen=True)
class RecordResult:
    """How many distinct orders of a batch were created, replaced or already up to date."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: RecordResult) -> RecordResult:
        return RecordResult(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


class OrderService:
    """Orders and their lines. Never commits: the caller owns the transaction."""

    def __init__(self, shop: Shopkeeper) -> None:
        self.shop = shop

    def record(self, session: Session, orders: Sequence[OrderIn]) -> RecordResult:
        """Create or replace ``orders`` with their lines, in bulk; idempotent.

        An order whose id is new is inserted. One that exists with identical content
        (header and lines) is left alone, ``updated_at`` included. One that exists with
        different content has its header replaced and, if they differ, its lines replaced;
        lines keep the position order they were given in. An id given twice in the batch
        counts once and the last one wins.

        Raises:
            Invalid: if an order names a ``customer_id`` that does not exist (``detail``
                names the field and the order), so nothing of the batch is written.
        """
        latest = {order.id: order for order in orders}
        if not latest:
            return RecordResult()
        self._check_customers(session, latest.values())
        ids = list(latest)
        stored = repository.headers_by_id(session, ids)
        stored_lines = repository.line_tuples_by_order(session, list(stored))
        now = self.shop.clock.now()

        new_headers: list[dict[str, Any]] = []
        changed_headers: list[dict[str, Any]] = []
        relined: list[str] = []
        new_lines: list[tuple[Any, ...]] = []
        for order_id, order in latest.items():
            header = _header(order)
            lines = _line_tuples(order)
            old = stored.get(order_id)
            if old is None:
                new_headers.append({"id": order_id, **header, "updated_at": now})
                new_lines.extend(_line_rows(order_id, lines))
                continue
            lines_differ = stored_lines[order_id] != lines
            if lines_differ or any(header[name] != old[name] for name in header):
                changed_headers.append({"id": order_id, **header, "updated_at": now})
            if lines_differ:
                relined.append(order_id)
                new_lines.extend(_line_rows(order_id, lines))

        repository.insert_orders(session, new_headers)
        repository.update_orders(session, changed_headers)
        repository.delete_lines(session, relined)
        repository.insert_lines(session, new_lines)
        return RecordResult(
            created=len(new_headers),
            updated=len(changed_headers),
            unchanged=len(latest) - len(new_headers) - len(changed_headers),
        )

    def set_status(
        self,
        session: Session,
        order_id: str,
        status: str,
        *,
        refunded: Decimal | None = None,
        at: datetime,
    ) -> bool:
        """Change an order's status, as ``Order Cancelled`` and ``Order Refunded`` do.

        For ``refunded`` (or ``partially_refunded``), ``refunded`` is the amount of *this*
        refund and adds to what was refunded before, so successive partial refunds add up:
        the order becomes ``partially_refunded`` while the sum is below its total and
        ``refunded`` (sum capped at the total) once it reaches it. ``refunded=None`` means
        a full refund. Callers must pass each refund once (ingest deduplicates events by
        message id); a replay would count twice. Other statuses leave the amount alone.

        Returns:
            ``False`` if the order is unknown: an event may refer to an order imported
            later, and the caller decides whether to keep it for then.

        Raises:
            Invalid: for an unknown status or a negative amount.
        """
        if status not in STATUSES:
            raise Invalid(
                f"status must be one of {', '.join(STATUSES)}", detail={"field": "status"}
            )
        if refunded is not None and refunded < 0:
            raise Invalid("a refund cannot be negative", detail={"field": "refunded"})
        current = repository.refund_state(session, order_id)
        if current is None:
            return False
        total, refunded_before = current
        values: dict[str, Any] = {"status": status, "updated_at": at}
        if status in REFUND_STATUSES:
            values["status"], values["refunded"] = refund_outcome(total, refunded_before, refunded)
        repository.set_order_values(session, order_id, values)
        return True

    def _check_customers(self, session: Session, orders: Collection[OrderIn]) -> None:
        wanted = sorted({order.customer_id for order in orders if order.customer_id is not None})
        if not wanted:
            return
        found: set[str] = set()
        for chunk in chunks(wanted):
            found.update(session.scalars(select(Customer.id).where(Customer.id.in_(chunk))))
        missing = set(wanted) - found
        if missing:
            order_ids = [order.id for order in orders if order.customer_id in missing]
            raise Invalid(
                f"unknown customer_id {min(missing)!r} (order {order_ids[0]!r})",
                detail={"field": "customer_id", "orders": order_ids[:20]},
            )


def refund_outcome(
    total: Decimal, refunded_before: Decimal | None, amount: Decimal | None
) -> tuple[str, Decimal]:
    """The status and cumulative refunded amount after refunding ``amount`` (``None`` = all).

    >>> refund_outcome(Decimal("50"), None, Decimal("10"))
    ('partially_refunded', Decimal('10'))
    >>> refund_outcome(Decimal("50"), Decimal("40"), Decimal("15"))
    ('refunded', Decimal('50'))
    """
    if amount is None:
        return "refunded", total
    refunded = (refunded_before or Decimal(0)) + amount
    if total <= 0:
        # Unknown or zero total: nothing to compare with, so any refund counts as full.
        return "refunded", refunded
    if refunded >= total:
        return "refunded", total
    return "partially_refunded", refunded


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(MONEY_SCALE)


def _header(order: OrderIn) -> dict[str, Any]:
    """The header columns as they will be stored (and compare with the stored ones)."""
    placed_at = order.placed_at
    if placed_at.tzinfo is None:
        placed_at = placed_at.replace(tzinfo=UTC)
    return {
        "customer_id": order.customer_id,
        "channel": order.channel,
        "status": order.status,
        "currency": None if order.currency is None else order.currency.upper(),
        "total": _money(order.total),
        "revenue": _money(order.revenue),
        "shipping": _money(order.shipping),
        "tax": _money(order.tax),
        "discount": _money(order.discount),
        "refunded": _money(order.refunded),
        "coupon": order.coupon,
        "email": order.email,
        "source": order.source,
        "placed_at": placed_at.astimezone(UTC),
    }


def _line_tuples(order: OrderIn) -> list[tuple[Any, ...]]:
    """The lines as tuples of :data:`repository.LINE_COLUMNS`, positions from 0."""
    return [
        (
            position,
            line.sku,
            line.name,
            line.quantity,
            line.unit_price.quantize(MONEY_SCALE),
            line.is_product
            if line.is_product is not None
            else not is_non_product(line.sku, line.name),
        )
        for position, line in enumerate(order.lines)
    ]


def _line_rows(order_id: str, lines: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [(order_id, *line) for line in lines]
