"""Privacy routes: a person's export and erasure (admin keys only)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from shopkeeper.dependencies import AdminKey, ShopDep
from shopkeeper.privacy.schemas import ErasureOut

router = APIRouter(tags=["privacy"])


@router.get("/v1/customers/{customer_id}/export", response_class=StreamingResponse)
def export_customer(customer_id: str, shop: ShopDep, principal: AdminKey) -> StreamingResponse:
    """Everything held about the person, as one JSON document streamed in time order."""
    with shop.db.transaction() as session:
        person = shop.privacy.begin_export(session, customer_id, actor=principal.key_id)

    def body() -> Iterator[bytes]:
        yield from shop.privacy.export_chunks(person)

    return StreamingResponse(body(), media_type="application/json")


@router.delete("/v1/customers/{customer_id}")
def erase_customer(customer_id: str, shop: ShopDep, principal: AdminKey) -> ErasureOut:
    """Erase the person in one transaction; orders stay for the books, anonymised."""
    with shop.db.transaction() as session:
        erasure = shop.privacy.erase(session, customer_id, actor=principal.key_id)
    return ErasureOut(target=erasure.target, counts=erasure.counts)
