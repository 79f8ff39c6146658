"""The catalog's rules: bulk, idempotent product upserts shared by live event ingest, the
importers, the shop simulator and the HTTP API.

An upsert reads the batch's existing rows with one ``SELECT``, inserts the new ones with one
executemany and updates only the rows whose content changed, so replaying a batch is cheap
and reports everything ``unchanged``. The pure classification rules (non-product codes,
category paths, price tiers) live in :mod:`shopkeeper.catalog.codes` and are re-exported here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import event
from sqlalchemy.orm import Session

from shopkeeper.catalog import repository
from shopkeeper.catalog.codes import is_non_product, normalise_category, price_tier_for
from shopkeeper.catalog.schemas import (
    ProductBatchOut,
    ProductError,
    ProductIn,
    ProductOut,
    ProductPage,
)
from shopkeeper.errors import BadRequest, Invalid, NotFound
from shopkeeper.models import Product

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

__all__ = [
    "CatalogService",
    "UpsertResult",
    "is_non_product",
    "normalise_category",
    "price_tier_for",
]

#: Prices are stored as ``Numeric(14, 4)``; inputs are rounded to that scale before they are
#: compared with the stored value, or a 5-decimal price would count as "changed" forever.
PRICE_SCALE = Decimal("0.0001")
MAX_PAGE = 500
#: ``session.info`` keys: the transaction changed the catalogue; the session has the hooks.
CHANGED = "catalog.changed"
HOOKED = "catalog.hooked"


@dataclass(frozen=True)
class UpsertResult:
    """How many distinct skus of a batch were created, changed or already up to date."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


class CatalogService:
    """Products: upserts for every writer, reads for the API. Never commits.

    Attributes:
        revision: Committed catalogue changes made through this service in this process
            (moved by the transaction's commit, never by a rolled-back write). In-memory
            caches of the catalogue, such as recommendation serving's stock snapshot, compare
            it to know they are stale without a query.
    """

    def __init__(self, shop: Shopkeeper) -> None:
        self.shop = shop
        self.revision = 0

    def upsert(
        self, session: Session, products: Sequence[ProductIn], *, partial: bool
    ) -> UpsertResult:
        """Create or update ``products`` in bulk; idempotent.

        Args:
            session: The caller's transaction.
            products: The batch. A sku given twice counts once: with ``partial=False`` the
                last item wins whole; with ``partial=True`` the items fold in order, each
                later non-``None`` field winning (as successive events would).
            partial: ``True`` for events: only fields that are not ``None`` are written, and
                ``in_stock``/``is_product`` never change unless given. ``False`` for ``PUT``
                and full imports: the product is replaced, missing fields are cleared
                (``in_stock`` back to true, ``is_product`` from :func:`is_non_product`).

        Returns:
            Counts of distinct skus created, updated and unchanged.
        """
        latest = _fold(products, partial=partial)
        if not latest:
            return UpsertResult()
        existing = repository.products_by_sku(session, list(latest))
        now = self.shop.clock.now()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for sku, given in latest.items():
            old = existing.get(sku)
            if old is None:
                inserts.append({**_new_values(sku, given), "created_at": now, "updated_at": now})
                continue
            target = _merged_values(sku, old, given, partial=partial)
            if any(target[name] != old[name] for name in repository.MUTABLE_COLUMNS):
                updates.append({"sku": sku, **target, "updated_at": now})
        repository.insert_products(session, inserts)
        repository.update_products(session, updates)
        if inserts or updates:
            self._count_on_commit(session)
        return UpsertResult(
            created=len(inserts),
            updated=len(updates),
            unchanged=len(latest) - len(inserts) - len(updates),
        )

    def _count_on_commit(self, session: Session) -> None:
        """Move :attr:`revision` when the caller's transaction commits.

        A rolled-back change leaves its mark on the session, so a later commit of that session
        moves the revision too: one needless refresh for a cache, never a missed one (a
        savepoint rolled back inside a committed transaction must not hide the rest).
        """
        session.info[CHANGED] = True
        if session.info.get(HOOKED):
            return
        session.info[HOOKED] = True

        def committed(done: Session) -> None:
            if done.info.pop(CHANGED, False):
                self.revision += 1

        event.listen(session, "after_commit", committed)

    def upsert_items(
        self, session: Session, items: Sequence[Any], *, partial: bool = False
    ) -> ProductBatchOut:
        """Validate raw items one by one and upsert the valid ones.

        A bad item must not cost the shop the other 9,999 of a bulk request, so each
        problem is reported by the item's index and field instead of failing the batch.
        """
        valid: list[ProductIn] = []
        errors: list[ProductError] = []
        for index, item in enumerate(items):
            try:
                valid.append(ProductIn.model_validate(item))
            except ValidationError as exc:
                errors.extend(
                    ProductError(
                        index=index,
                        field=".".join(str(part) for part in err["loc"]) or "item",
                        message=err["msg"],
                    )
                    for err in exc.errors()
                )
        result = self.upsert(session, valid, partial=partial)
        return ProductBatchOut(
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            errors=errors,
        )

    def get(self, session: Session, sku: str) -> ProductOut:
        """The product ``sku``; :class:`NotFound` if the catalog does not know it."""
        product = repository.get_product(session, sku)
        if product is None:
            raise NotFound(f"no product with sku {sku!r}", detail={"field": "sku"})
        return to_out(product)

    def page(
        self,
        session: Session,
        *,
        category: str | None = None,
        brand: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> ProductPage:
        """One page of products in sku order; pass ``next_cursor`` back for the next.

        The cursor is opaque to clients (the last sku, base64url-encoded) so that the
        ordering key can change later without breaking them.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise Invalid(f"limit must be between 1 and {MAX_PAGE}", detail={"field": "limit"})
        after = decode_cursor(cursor) if cursor else None
        rows = repository.list_products(
            session,
            category=normalise_category(category),
            brand=brand,
            after=after,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return ProductPage(
            products=[to_out(row) for row in rows],
            next_cursor=encode_cursor(rows[-1].sku) if more else None,
        )


def to_out(product: Product) -> ProductOut:
    return ProductOut(
        sku=product.sku,
        title=product.title,
        category_path=product.category_path,
        brand=product.brand,
        price=product.price,
        currency=product.currency,
        price_tier=product.price_tier,
        in_stock=product.in_stock,
        is_product=product.is_product,
        attributes=product.attributes or {},
    )


def encode_cursor(sku: str) -> str:
    return base64.urlsafe_b64encode(sku.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sku = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("cursor is not one this API returned", detail={"field": "cursor"}) from exc
    if not sku or "\x00" in sku:
        raise BadRequest("cursor is not one this API returned", detail={"field": "cursor"})
    return sku


def _fold(products: Sequence[ProductIn], *, partial: bool) -> dict[str, dict[str, Any]]:
    """The batch keyed by sku with duplicates resolved, as dicts of the *given* fields."""
    latest: dict[str, dict[str, Any]] = {}
    for product in products:
        given = _given_values(product)
        if partial and product.sku in latest:
            latest[product.sku].update(given)
        else:
            latest[product.sku] = given
    return latest


def _given_values(product: ProductIn) -> dict[str, Any]:
    """The fields ``product`` carries (not ``None``), normalised as they will be stored."""
    values: dict[str, Any] = {
        "title": product.title,
        "category_path": normalise_category(product.category_path),
        "brand": product.brand,
        "price": None if product.price is None else product.price.quantize(PRICE_SCALE),
        "currency": None if product.currency is None else product.currency.upper(),
        "price_tier": product.price_tier,
        "in_stock": product.in_stock,
        "is_product": product.is_product,
        "attributes": product.attributes,
    }
    return {name: value for name, value in values.items() if value is not None}


def _new_values(sku: str, given: dict[str, Any]) -> dict[str, Any]:
    """A complete row for a product seen for the first time."""
    values = {name: given.get(name) for name in repository.MUTABLE_COLUMNS}
    values["sku"] = sku
    values["in_stock"] = given.get("in_stock", True)
    values["is_product"] = given.get("is_product", not is_non_product(sku, given.get("title")))
    values["attributes"] = given.get("attributes", {})
    return values


def _merged_values(
    sku: str, old: dict[str, Any], given: dict[str, Any], *, partial: bool
) -> dict[str, Any]:
    """The mutable columns of an existing product after applying ``given``."""
    if not partial:
        values = _new_values(sku, given)
        values.pop("sku")
        return values
    return {name: given.get(name, old[name]) for name in repository.MUTABLE_COLUMNS}
