"""Health and metrics: the only routes that need no key (``/metrics`` is for the scraper on the
private network; put it behind the proxy's auth if the port is public)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from shopkeeper.dependencies import ShopDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(shop: ShopDep) -> dict[str, str]:
    """Liveness and store reachability."""
    with shop.db.sessions() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "database": shop.db.dialect}


@router.get("/metrics", include_in_schema=False)
def metrics(shop: ShopDep) -> Response:
    return Response(generate_latest(shop.metrics.registry), media_type=CONTENT_TYPE_LATEST)
