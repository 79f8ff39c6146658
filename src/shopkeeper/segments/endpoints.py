"""``/v1/segments`` and ``GET /v1/customers/{id}/segments``: thin, one service call per route.

Definitions are written with admin keys (a segment decides who is shown what); reading them,
their members and a customer's segments needs a read key; the audience export (hashed
e-mails, personal data) needs admin. Bodies that carry a rule are read by hand before any
model sees them: larger than :data:`MAX_BODY` is 413, malformed or nested past the JSON
parser's limit is 400, so a hostile body is a clear 4xx and never a 500.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from shopkeeper.dependencies import AdminKey, ReadKey, ShopDep
from shopkeeper.errors import BadRequest, Invalid, PayloadTooLarge
from shopkeeper.segments.rules import MAX_TEXT
from shopkeeper.segments.schemas import (
    CrossReport,
    CustomerSegments,
    EvaluationReport,
    MemberPage,
    PriorityReport,
    SegmentDetail,
    SegmentIn,
    SegmentList,
    SegmentOut,
    SegmentUpdate,
)

router = APIRouter(tags=["segments"])
MAX_BODY = MAX_TEXT + 16 * 1024
M = TypeVar("M", bound=BaseModel)


async def _body(request: Request, model: type[M]) -> M:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise PayloadTooLarge(f"body over {MAX_BODY // 1024} KB", detail={"field": "body"})
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}", detail={"field": "body"}) from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        first = fields[0]
        raise Invalid(f"{first['field']}: {first['message']}", detail=fields) from None


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


@router.post(
    "/v1/segments", status_code=201, openapi_extra=_schema(SegmentIn), response_model=SegmentOut
)
async def create_segment(request: Request, shop: ShopDep, _key: AdminKey) -> SegmentOut:
    """Store a segment; the rule is validated (422 names the offending part's path)."""
    body = await _body(request, SegmentIn)

    def create() -> SegmentOut:
        with shop.db.transaction() as session:
            segment = shop.segments.create(
                session,
                body.name,
                body.rule,
                description=body.description,
                kind=body.kind,
                slug=body.slug,
            )
            return shop.segments.out(session, segment)

    return await run_in_threadpool(create)


@router.get("/v1/segments")
def list_segments(shop: ShopDep, _key: ReadKey) -> SegmentList:
    """Every stored segment with its current size."""
    with shop.db.sessions() as session:
        return SegmentList(segments=shop.segments.list(session))


@router.get("/v1/segments/priorities")
def priorities(
    shop: ShopDep,
    _key: ReadKey,
    window_days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> PriorityReport:
    """Segments ranked by expected value per unit of effort (formula in the answer)."""
    with shop.db.sessions() as session:
        return shop.segments.priorities(session, window_days=window_days)


@router.get("/v1/segments/cross")
def cross(
    shop: ShopDep,
    _key: ReadKey,
    segments: Annotated[list[str], Query(min_length=2, max_length=3)],
) -> CrossReport:
    """Customers in each combination of 2 or 3 segments (``?segments=a&segments=b``)."""
    with shop.db.sessions() as session:
        return shop.segments.cross(session, segments)


@router.get("/v1/segments/{key}")
def show_segment(
    key: str, shop: ShopDep, _key: ReadKey, history: Annotated[int, Query(ge=1, le=1000)] = 100
) -> SegmentDetail:
    """Definition, current size and size history; ``key`` is the id or the slug."""
    with shop.db.sessions() as session:
        return shop.segments.show(session, key, history=history)


@router.put("/v1/segments/{key}", openapi_extra=_schema(SegmentUpdate), response_model=SegmentOut)
async def update_segment(key: str, request: Request, shop: ShopDep, _key: AdminKey) -> SegmentOut:
    """Change name, description or rule (a new rule is a new version)."""
    body = await _body(request, SegmentUpdate)

    def update() -> SegmentOut:
        with shop.db.transaction() as session:
            segment = shop.segments.update(
                session, key, name=body.name, description=body.description, rule=body.rule
            )
            return shop.segments.out(session, segment)

    return await run_in_threadpool(update)


@router.delete("/v1/segments/{key}", status_code=204)
def delete_segment(key: str, shop: ShopDep, _key: AdminKey) -> Response:
    """Delete a segment with its memberships and size history."""
    with shop.db.transaction() as session:
        shop.segments.delete(session, key)
    return Response(status_code=204)


@router.post("/v1/segments/{key}/evaluate")
def evaluate_segment(key: str, shop: ShopDep, _key: AdminKey) -> EvaluationReport:
    """Evaluate now: record entries, exits (with their events) and the size."""
    with shop.db.sessions() as session:  # the engine's work holds no write lock
        decision = shop.segments.decide(session, key)
    with shop.db.transaction() as session:
        return shop.segments.record(session, decision)


@router.get("/v1/segments/{key}/members")
def members(
    key: str,
    shop: ShopDep,
    _key: ReadKey,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    after: Annotated[str | None, Query(max_length=100)] = None,
) -> MemberPage:
    """Current members in customer-id order; pass ``next_after`` back as ``after``."""
    with shop.db.sessions() as session:
        return shop.segments.members(session, key, limit=limit, after=after)


@router.get("/v1/segments/{key}/export.csv", response_class=Response)
def export_csv(
    key: str,
    shop: ShopDep,
    _key: AdminKey,
    hashed: Annotated[
        bool, Query(description="SHA-256 e-mails of consenting members (else customer ids).")
    ] = True,
) -> Response:
    """The audience file: hashed e-mails of members with advertising consent, or member ids."""
    with shop.db.sessions() as session:
        text = "".join(shop.segments.export_csv(session, key, hashed=hashed))
    name = f"{re.sub(r'[^A-Za-z0-9_-]', '', key)}-{'audience' if hashed else 'members'}.csv"
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/v1/customers/{identifier}/segments", tags=["customers"])
def customer_segments(identifier: str, shop: ShopDep, _key: ReadKey) -> CustomerSegments:
    """Stored segments the customer matches now (real time), with the rule parts that held."""
    with shop.db.sessions() as session:
        return shop.segments.segments_of(session, identifier)
