"""The HTTP application: routers from each domain, one error handler, metrics and logs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError

from shopkeeper.application import Shopkeeper
from shopkeeper.errors import ShopkeeperError
from shopkeeper.ops.logging import log
from shopkeeper.responses import JSONBody

ROUTERS = (
    "shopkeeper.ops.endpoints",
    "shopkeeper.events.endpoints",
    "shopkeeper.customers.endpoints",
    "shopkeeper.catalog.endpoints",
    "shopkeeper.privacy.endpoints",
    "shopkeeper.auth.endpoints",
    "shopkeeper.identities.endpoints",
    "shopkeeper.quality.endpoints",
    "shopkeeper.analytics.endpoints",
    "shopkeeper.recommendations.endpoints",
)


def create_app(shop: Shopkeeper) -> FastAPI:
    """Build the API around an opened :class:`Shopkeeper` (its store already migrated)."""
    import importlib

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        shop.events.start()
        try:
            yield
        finally:
            shop.events.stop()

    app = FastAPI(
        title="Shopkeeper",
        version="0.1.0",
        summary="Self-hosted personalization engine: Segment-compatible collection, customer 360.",
        lifespan=lifespan,
    )
    app.state.shop = shop
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)

    @app.exception_handler(ShopkeeperError)
    async def _shopkeeper_error(_request: Request, exc: ShopkeeperError) -> Response:
        return JSONBody(exc.to_dict(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        fields = [
            {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "message": err["msg"]}
            for err in exc.errors()
        ]
        return JSONBody(
            {"error": "invalid", "message": "request failed validation", "detail": fields},
            status_code=422,
        )

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            log.exception("unhandled error", path=request.url.path, method=request.method)
            response = JSONBody(
                {"error": "internal_error", "message": "internal error"}, status_code=500
            )
        route: Any = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        elapsed = time.perf_counter() - started
        shop.metrics.requests.labels(request.method, path, str(response.status_code)).inc()
        shop.metrics.latency.labels(request.method, path).observe(elapsed)
        return response

    return app
