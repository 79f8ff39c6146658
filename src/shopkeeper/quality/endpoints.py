"""``GET /v1/quality``: the data-quality scorecard (read keys)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from shopkeeper.dependencies import ReadKey, ShopDep
from shopkeeper.quality.schemas import Scorecard
from shopkeeper.quality.service import QualityService

router = APIRouter(prefix="/v1/quality", tags=["quality"])


@router.get("")
def quality(
    shop: ShopDep,
    _key: ReadKey,
    table: str | None = Query(
        None, max_length=40, description="Only this table (customers, orders, events…)."
    ),
) -> Scorecard:
    """Scores 0–100 per table and dimension, and every finding with counts and examples.

    Aggregate queries over the whole store: seconds on a large shop, so poll it, do not
    call it per page view.
    """
    with shop.db.sessions() as session:
        return QualityService(shop).scorecard(session, table)
