"""Merge routes (admin keys only): preview, merge, list, undo."""

from __future__ import annotations

from fastapi import APIRouter, Query

from shopkeeper.dependencies import AdminKey, ShopDep
from shopkeeper.identities.schemas import MergeList, MergeOut, MergePair, MergePlanOut, MergeRequest
from shopkeeper.identities.service import IdentityGraph

router = APIRouter(prefix="/v1/merges", tags=["merges"])


def _graph(shop: ShopDep) -> IdentityGraph:
    return shop.identities


@router.post("/preview")
def preview_merge(body: MergePair, shop: ShopDep, _key: AdminKey) -> MergePlanOut:
    """What merging ``a`` and ``b`` would do; nothing is written."""
    with shop.db.sessions() as session:
        return MergePlanOut.from_plan(_graph(shop).preview_merge(session, body.a, body.b))


@router.post("", status_code=201)
def merge(body: MergeRequest, shop: ShopDep, key: AdminKey) -> MergeOut:
    """Merge two customers by hand; the winner is the one the preview names."""
    with shop.db.transaction() as session:
        done = _graph(shop).merge_customers(
            session, body.a, body.b, body.reason, actor=f"key:{key.key_id}"
        )
        return MergeOut.from_merge(done)


@router.get("")
def list_merges(
    shop: ShopDep,
    _key: AdminKey,
    customer: str | None = Query(None, max_length=320, description="Any identifier."),
    limit: int = Query(100, ge=1, le=1000, description="Most merges returned, newest first."),
) -> MergeList:
    """The merge log, newest first, optionally for one customer."""
    with shop.db.sessions() as session:
        merges = _graph(shop).list_merges(session, customer, limit=limit)
        return MergeList(merges=[MergeOut.from_merge(m) for m in merges])


@router.post("/{merge_id}/undo")
def undo_merge(merge_id: int, shop: ShopDep, key: AdminKey) -> MergeOut:
    """Restore both profiles as they were before the merge."""
    with shop.db.transaction() as session:
        return MergeOut.from_merge(_graph(shop).undo(session, merge_id, actor=f"key:{key.key_id}"))
