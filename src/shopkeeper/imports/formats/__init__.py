"""The file formats ``shopkeeper import`` reads, by name.

A format checks a file's header once (:meth:`FileFormat.bind`, failing at once with the
expected columns named) and returns a row parser: a plain callable that validates one row's
fields, folds it into the chunk's :class:`~shopkeeper.imports.batch.Batch`, and raises
:class:`~shopkeeper.imports.batch.RowError` for a row it cannot take.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import ClassVar

from shopkeeper.clock import Clock
from shopkeeper.errors import Invalid
from shopkeeper.imports.batch import Batch, RowError

#: ``parse(fields, batch, line, raw)``
RowParser = Callable[[list[str], Batch, int, str], None]


class FileFormat:
    """Base of every format: its name, its columns, and how rows become store input."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: Whether a quoted field may contain line breaks (see :mod:`shopkeeper.imports.reader`).
    multiline: ClassVar[bool] = True
    #: ``True``: product mentions only fill in fields (orders name products in passing);
    #: ``False``: the file is the catalog and replaces what it names.
    partial_products: ClassVar[bool] = True

    @property
    def source(self) -> str:
        """The ``source`` stamped on orders, so imported history can be told from live."""
        return f"import:{self.name}"

    def bind(self, header: list[str], path: Path) -> RowParser:
        raise NotImplementedError


def column_indexes(
    header: Sequence[str],
    required: Sequence[str],
    optional: Sequence[str],
    *,
    path: Path,
    format_name: str,
) -> dict[str, int]:
    """Map column names to positions, or fail naming the columns the format expects.

    Raises:
        Invalid: a required column is missing (the message lists them all, and what was found).
    """
    positions = {name: index for index, name in enumerate(header)}
    missing = [name for name in required if name not in positions]
    if missing:
        raise Invalid(
            f"{path.name}: not a {format_name} file: missing column(s) {', '.join(missing)}. "
            f"Expected columns: {', '.join(required)}"
            + (f" (optional: {', '.join(optional)})" if optional else "")
            + f"; found: {', '.join(header) or 'nothing'}",
            detail={"field": "header", "missing": missing, "expected": list(required)},
        )
    return {name: positions[name] for name in (*required, *optional) if name in positions}


def decimal(text: str, column: str) -> Decimal:
    """A finite decimal, or a :class:`RowError` naming the column."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"{column} is not a number: {text!r}") from None
    if not value.is_finite():
        raise RowError(f"{column} is not a number: {text!r}")
    return value


def optional_decimal(text: str, column: str) -> Decimal | None:
    text = text.strip()
    return decimal(text, column) if text else None


def whole(text: str, column: str) -> int:
    try:
        return int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise RowError(f"{column} is not a whole number: {text!r}") from None
        if not value.is_integer():
            raise RowError(f"{column} is not a whole number: {text!r}") from None
        return int(value)


def timestamp(text: str, column: str) -> datetime:
    """An ISO 8601 (or Shopify-style ``2024-01-05 10:30:00 +0100``) timestamp, in UTC.

    A timestamp without a zone is taken as UTC.
    """
    text = text.strip()
    if not text:
        raise RowError(f"missing {column}")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            value = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            raise RowError(f"{column} is not a date-time: {text!r}") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def registry(clock: Clock | None = None) -> dict[str, FileFormat]:
    """Every format by the name the CLI takes (``clock`` dates rows that carry no date)."""
    from shopkeeper.imports.formats.cdnow import Cdnow
    from shopkeeper.imports.formats.generic import (
        GenericCustomers,
        GenericEvents,
        GenericOrders,
        GenericProducts,
    )
    from shopkeeper.imports.formats.online_retail import OnlineRetail
    from shopkeeper.imports.formats.shopify import ShopifyCustomers, ShopifyOrders

    formats: list[FileFormat] = [
        OnlineRetail(),
        Cdnow(),
        ShopifyOrders(),
        ShopifyCustomers(clock),
        GenericCustomers(clock),
        GenericProducts(),
        GenericOrders(),
        GenericEvents(),
    ]
    return {f.name: f for f in formats}
