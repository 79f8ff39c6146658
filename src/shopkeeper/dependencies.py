"""FastAPI dependencies declared once as ``Annotated`` aliases: route signatures read as specs."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

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


M = TypeVar("M", bound=BaseModel)


def query_of(model: type[M]) -> Any:
    """A dependency reading the query string into ``model`` with one validation.

    For hot read routes: FastAPI's per-parameter path (annotation checks for every parameter
    on every request) cost as much as a precomputed recommendation. Errors are FastAPI's (422,
    ``query.<name>``); give the route ``openapi_extra=query_openapi(model)`` so the schema
    still lists the parameters.
    """

    async def dependency(request: Request) -> M:
        try:
            return model.model_validate(dict(request.query_params))
        except ValidationError as exc:
            errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from None

    dependency.__name__ = f"query_of_{model.__name__}"
    return Depends(dependency)


def query_openapi(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI ``parameters`` of a :func:`query_of` model."""
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        field = dict(field)
        described = {"description": field.pop("description")} if "description" in field else {}
        field.pop("title", None)
        parameters.append(
            {"name": name, "in": "query", "required": name in required, "schema": field} | described
        )
    return {"parameters": parameters}


ShopDep = Annotated[Shopkeeper, Depends(get_shop)]
WriteKey = Annotated[Principal, Depends(_requires("write"))]
ReadKey = Annotated[Principal, Depends(_requires("read"))]
AdminKey = Annotated[Principal, Depends(_requires("admin"))]
