"""FastAPI dependencies declared once as ``Annotated`` aliases: route signatures read as specs."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from shopkeeper.application import Shopkeeper
from shopkeeper.auth.service import Principal

# The dependencies are ``async def`` although they do not await: FastAPI runs a plain ``def``
# dependency in its thread pool, and two thread hand-offs per request cost more CPU than a
# precomputed recommendation. Authentication reads the store only on a key-cache miss.


async def get_shop(request: Request) -> Shopkeeper:
    shop: Shopkeeper = request.app.state.shop
    return shop


def key_from_request(request: Request) -> str | None:
    """The API key from ``Authorization: Basic base64(key:)`` (Segment's way) or ``Bearer key``."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip() or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def _requires(scope: str):  # type: ignore[no-untyped-def]
    async def dependency(request: Request) -> Principal:
        shop: Shopkeeper = request.app.state.shop
        principal = shop.keys.authenticate(key_from_request(request), scope)
        request.state.principal = principal
        return principal

    dependency.__name__ = f"requires_{scope}"
    return dependency


ShopDep = Annotated[Shopkeeper, Depends(get_shop)]
WriteKey = Annotated[Principal, Depends(_requires("write"))]
ReadKey = Annotated[Principal, Depends(_requires("read"))]
AdminKey = Annotated[Principal, Depends(_requires("admin"))]
