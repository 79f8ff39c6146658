"""Queries on the catalog. Bulk reads and writes use SQLAlchemy Core with executemany:
an event batch or an import touches thousands of products, and building ORM objects one by
one would cost more than the statements themselves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from shopkeeper.models import Product

PRODUCTS = cast(Table, Product.__table__)

#: Columns a write may change (everything but the key and ``created_at``).
MUTABLE_COLUMNS = (
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

#: Most bound values in one ``IN (...)``: well under SQLite's 32,766 and PostgreSQL's 65,535.
IN_CHUNK = 5_000


def chunks(values: Sequence[str], size: int = IN_CHUNK) -> Iterator[Sequence[str]]:
    """``values`` in slices of at most ``size``, for ``IN`` lists the drivers accept."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def products_by_sku(session: Session, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored rows (as dicts of column values) of those ``skus`` that exist."""
    found: dict[str, dict[str, Any]] = {}
    columns = [PRODUCTS.c.sku, *(PRODUCTS.c[name] for name in MUTABLE_COLUMNS)]
    for chunk in chunks(skus):
        for row in session.execute(select(*columns).where(PRODUCTS.c.sku.in_(chunk))).mappings():
            found[row["sku"]] = dict(row)
    return found


def insert_products(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert complete product rows in one executemany."""
    if rows:
        session.execute(insert(PRODUCTS), list(rows))


def update_products(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Rewrite the mutable columns and ``updated_at`` of existing products, one executemany.

    Each row carries ``sku`` plus every column of :data:`MUTABLE_COLUMNS` and ``updated_at``.
    """
    if not rows:
        return
    statement = (
        update(PRODUCTS)
        .where(PRODUCTS.c.sku == bindparam("key_sku"))
        .values({name: bindparam(name) for name in (*MUTABLE_COLUMNS, "updated_at")})
    )
    params = [
        {**{k: v for k, v in row.items() if k != "sku"}, "key_sku": row["sku"]} for row in rows
    ]
    session.execute(statement, params)


def get_product(session: Session, sku: str) -> Product | None:
    return session.get(Product, sku)


def list_products(
    session: Session,
    *,
    category: str | None = None,
    brand: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[Product]:
    """Products ordered by sku, after the sku ``after`` (keyset pagination).

    ``category`` matches the category and everything under it: ``women`` finds
    ``women`` and ``women/dresses`` but not ``womenswear``.
    """
    query = select(Product).order_by(Product.sku).limit(limit)
    if category is not None:
        pattern = category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            (Product.category_path == category)
            | Product.category_path.like(pattern + "/%", escape="\\")
        )
    if brand is not None:
        query = query.where(Product.brand == brand)
    if after is not None:
        query = query.where(Product.sku > after)
    return list(session.scalars(query))


def count_products(session: Session, skus: Iterable[str] | None = None) -> int:
    """How many products are stored, of ``skus`` if given."""
    query = select(func.count()).select_from(PRODUCTS)
    if skus is not None:
        query = query.where(PRODUCTS.c.sku.in_(list(skus)))
    return int(session.scalar(query) or 0)
