"""Health and metrics: the only routes that need no key (``/metrics`` is for the scraper on the
private network; put it behind the proxy's auth if the port is public)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from shopkeeper.dependencies import ShopDep
from shopkeeper.events import repository as events_repository
from shopkeeper.events.projector import NAME as FACTS
from shopkeeper.ops.metrics import render

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(shop: ShopDep) -> dict[str, str]:
    """Liveness and store reachability."""
    with shop.db.sessions() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "database": shop.db.dialect}


@router.get("/metrics", include_in_schema=False)
def metrics(shop: ShopDep) -> Response:
    """The server's counters (every process's, with several workers), and the projector's
    position and the log's end read from the store on each scrape."""
    with shop.db.sessions() as session:
        shop.metrics.projection_position.set(events_repository.position_of(session, FACTS))
        shop.metrics.log_end.set(events_repository.newest_id(session))
    return Response(render(shop.metrics), media_type=CONTENT_TYPE_LATEST)
