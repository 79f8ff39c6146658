"""The HTTP application: routers from each domain, one error handler, metrics and logs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopkeeper.application import Shopkeeper
from shopkeeper.errors import ShopkeeperError
from shopkeeper.ops.logging import log
from shopkeeper.ops.metrics import Metrics
from shopkeeper.responses import JSONBody

#: Routers in matching order: FastAPI tries each included router's routes in turn, so the hot
#: read paths (recommendations, then ingest and profiles) come first.
ROUTERS = (
    "shopkeeper.recommendations.endpoints",
    "shopkeeper.events.endpoints",
    "shopkeeper.customers.endpoints",
    "shopkeeper.ops.endpoints",
    "shopkeeper.catalog.endpoints",
    "shopkeeper.privacy.endpoints",
    "shopkeeper.auth.endpoints",
    "shopkeeper.identities.endpoints",
    "shopkeeper.quality.endpoints",
    "shopkeeper.analytics.endpoints",
    "shopkeeper.segments.endpoints",
    "shopkeeper.triggers.endpoints",
    "shopkeeper.personas.endpoints",
)


def create_app(shop: Shopkeeper, *, projector: bool = True) -> FastAPI:
    """Build the API around an opened :class:`Shopkeeper` (its store already migrated).

    ``projector=False`` for all but one worker of a server: one projector per store is enough
    (two would read and plan the same batches, and on the background schedule each would take
    a core of its own)."""
    import importlib

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # sync routes and dependencies run in anyio's thread pool (40 threads by default)
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = shop.settings.threads
        shop.events.start(projector=projector)
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

    app.add_middleware(ObserveMiddleware, metrics=shop.metrics)
    return app


class ObserveMiddleware:
    """Request metrics and a JSON 500 for anything unexpected, as plain ASGI.

    (Starlette's ``BaseHTTPMiddleware`` wraps every request in extra tasks and streams; on the
    single-event ingest path that cost as much as the endpoint.)
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def observe_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, observe_send)
        except Exception:
            log.exception("unhandled error", path=scope.get("path"), method=scope.get("method"))
            if response_started:
                raise
            status = 500
            error = JSONBody({"error": "internal_error", "message": "internal error"}, 500)
            await error(scope, receive, send)
        route: Any = scope.get("route")
        path = getattr(route, "path", "unmatched")
        method = scope.get("method", "")
        self.metrics.requests.labels(method, path, str(status)).inc()
        self.metrics.latency.labels(method, path).observe(time.perf_counter() - started)
