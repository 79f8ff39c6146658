"""Segment / RudderStack HTTP Tracking API: ``/v1/track``, ``/v1/identify``... ``/v1/batch``.

Answers: 200 when every event is stored (or was already: messageId dedup); 422 when some
events are invalid — the body lists them by index and field and says how many valid events
were stored; 400 malformed JSON or gzip; 401 missing/unknown key; 413 too large.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from shopkeeper.dependencies import ShopDep, key_from_request
from shopkeeper.errors import PayloadTooLarge, ShopkeeperError
from shopkeeper.events.schemas import IngestResponse
from shopkeeper.responses import JSONBody

router = APIRouter(prefix="/v1", tags=["collection"])

RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": IngestResponse, "description": "All events stored (or already stored)."},
    422: {"model": IngestResponse, "description": "Some events invalid; the valid ones stored."},
}


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body exceeds {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _collect(request: Request, shop: ShopDep, call_type: str | None) -> Response:
    events = shop.events
    header_key = key_from_request(request)
    if header_key:
        request.state.principal = shop.keys.authenticate(header_key, "write")
    raw = await _read_body(request, events.settings.max_batch_bytes)
    try:
        document = events.decode(
            raw, request.headers.get("content-encoding"), batch=call_type is None
        )
    except ShopkeeperError:
        if not header_key:  # an anonymous caller learns nothing about the body
            shop.keys.authenticate(None, "write")
        raise
    if not header_key:
        request.state.principal = shop.keys.authenticate(events.write_key_of(document), "write")
    parsed = events.parse(document, call_type)
    accepted, duplicates = await events.submit(parsed.prepared)
    events.record_outcome(accepted, duplicates, len(parsed.errors))
    body = IngestResponse(
        success=not parsed.errors, accepted=accepted, duplicates=duplicates, errors=parsed.errors
    )
    return JSONBody(body.model_dump(), status_code=422 if parsed.errors else 200)


def _route(call_type: str | None, path: str, summary: str) -> None:
    async def endpoint(request: Request, shop: ShopDep) -> Response:
        return await _collect(request, shop, call_type)

    endpoint.__name__ = f"collect_{call_type or 'batch'}"
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        summary=summary,
        responses=RESPONSES,
        response_model=None,
    )


_route("track", "/track", "Record an action (Segment track call)")
_route("identify", "/identify", "Tie a visitor to a known customer and their traits")
_route("page", "/page", "Record a page view")
_route("screen", "/screen", "Record an app screen view")
_route("group", "/group", "Associate a visitor with a group (company, household)")
_route("alias", "/alias", "Join a previous identity to a userId")
_route(None, "/batch", "Send many calls at once (what the SDKs use)")
