"""Customer 360 routes: profile, events, consent. Thin: each route calls one service method."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from shopkeeper.customers.schemas import (
    ConsentHistory,
    ConsentOut,
    ConsentUpdate,
    EventPage,
    Profile,
)
from shopkeeper.dependencies import AdminKey, ReadKey, ShopDep

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.get("/{identifier}", response_model=Profile)
async def get_profile(identifier: str, shop: ShopDep, _key: ReadKey) -> Response:
    """The 360° profile; ``identifier`` is a customer id, userId, anonymousId or e-mail."""
    # On the event loop, as recommendations: a read is ~1-2 ms of CPU holding the GIL either
    # way and the thread-pool hand-off cost as much again. The service built a valid Profile:
    # Pydantic renders it to JSON once instead of FastAPI re-validating it.
    profile = shop.customers.profile(identifier)
    return Response(profile.__pydantic_serializer__.to_json(profile), media_type="application/json")


@router.get("/{identifier}/events")
def get_events(
    identifier: str,
    shop: ShopDep,
    _key: ReadKey,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[str | None, Query(max_length=80)] = None,
) -> EventPage:
    """The customer's events, newest first; pass ``next_before`` back as ``before`` to page."""
    return shop.customers.events(identifier, limit=limit, before=before)


@router.get("/{identifier}/consent")
def get_consent(identifier: str, shop: ShopDep, _key: ReadKey) -> ConsentOut:
    """The consent in force per purpose (``granted`` null: never given, treat as refused)."""
    return shop.customers.consent(identifier)


@router.put("/{identifier}/consent")
def put_consent(
    identifier: str, update: ConsentUpdate, shop: ShopDep, _key: AdminKey
) -> ConsentOut:
    """Set consent for some purposes; history rows are appended only for real changes."""
    return shop.customers.set_consent(identifier, update)


@router.get("/{identifier}/consent/history")
def get_consent_history(identifier: str, shop: ShopDep, _key: ReadKey) -> ConsentHistory:
    """Every consent change, in the order written (the last per purpose is in force)."""
    return shop.customers.consent_history(identifier)
