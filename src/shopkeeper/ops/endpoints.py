"""Health and metrics: the only routes that need no key (``/metrics`` is for the scraper on the
private network; put it behind the proxy's auth if the port is public)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from shopkeeper.dependencies import ShopDep
from shopkeeper.events import repository as events_repository
from shopkeeper.events.projector import NAME as FACTS

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(shop: ShopDep) -> dict[str, str]:
    """Liveness and store reachability."""
    with shop.db.sessions() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "database": shop.db.dialect}


@router.get("/metrics", include_in_schema=False)
def metrics(shop: ShopDep) -> Response:
    """The process's counters, and the projector's lag read from the store: with several
    workers the projector runs in the writer process, whose registry no scrape reaches."""
    with shop.db.sessions() as session:
        shop.metrics.projection_position.set(events_repository.position_of(session, FACTS))
        shop.metrics.log_end.set(events_repository.newest_id(session))
    return Response(generate_latest(shop.metrics.registry), media_type=CONTENT_TYPE_LATEST)
