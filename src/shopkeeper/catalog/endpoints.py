"""Catalog routes: the shop pushes its products (admin key) and reads them back (read key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from shopkeeper.catalog.schemas import (
    ProductBatchIn,
    ProductBatchOut,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPut,
)
from shopkeeper.dependencies import AdminKey, ReadKey, ShopDep
from shopkeeper.errors import Invalid

router = APIRouter(prefix="/v1/products", tags=["catalog"])

#: NUL is refused up front: PostgreSQL cannot even compare a text value containing it.
SkuPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^\x00]+$")]


@router.post("/bulk", response_model=ProductBatchOut)
def bulk_upsert(body: ProductBatchIn, shop: ShopDep, _key: AdminKey) -> ProductBatchOut:
    """Create or replace up to 10,000 products; bad items are reported by index and field
    while the good ones are stored."""
    with shop.db.transaction() as session:
        return shop.catalog.upsert_items(session, body.products, partial=body.partial)


@router.put("/{sku}", response_model=ProductOut)
def put_product(sku: SkuPath, body: ProductPut, shop: ShopDep, _key: AdminKey) -> ProductOut:
    """Create or replace one product (fields left out are cleared)."""
    if body.sku is not None and body.sku != sku:
        raise Invalid(
            f"sku in the body ({body.sku!r}) does not match the path ({sku!r})",
            detail={"field": "sku"},
        )
    product = ProductIn.model_validate({**body.model_dump(exclude={"sku"}), "sku": sku})
    with shop.db.transaction() as session:
        shop.catalog.upsert(session, [product], partial=False)
        return shop.catalog.get(session, product.sku)


@router.get("/{sku}", response_model=ProductOut)
def get_product(sku: SkuPath, shop: ShopDep, _key: ReadKey) -> ProductOut:
    with shop.db.transaction() as session:
        return shop.catalog.get(session, sku)


@router.get("", response_model=ProductPage)
def list_products(
    shop: ShopDep,
    _key: ReadKey,
    category: Annotated[str | None, Query(max_length=500)] = None,
    brand: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> ProductPage:
    """Products in sku order; ``category=women`` includes ``women/dresses``."""
    with shop.db.transaction() as session:
        return shop.catalog.page(
            session, category=category, brand=brand, limit=limit, cursor=cursor
        )
