"""Trigger routes: the definitions, and a customer's firings with their evidence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shopkeeper.dependencies import ReadKey, ShopDep
from shopkeeper.triggers.schemas import FiredPage, TriggerList

router = APIRouter(tags=["triggers"])


@router.get("/v1/triggers")
def list_triggers(shop: ShopDep, _key: ReadKey) -> TriggerList:
    """Every trigger definition: rule, window, cooldown, when it is evaluated."""
    return TriggerList(enabled=shop.settings.triggers == "on", triggers=shop.triggers.definitions())


@router.get("/v1/customers/{identifier}/triggers")
def customer_triggers(
    identifier: str,
    shop: ShopDep,
    _key: ReadKey,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> FiredPage:
    """The customer's trigger firings, newest first, each with the evidence that made it fire."""
    return shop.triggers.fired(identifier, limit=limit)
