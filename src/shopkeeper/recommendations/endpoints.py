"""``GET /v1/recommendations``: one route for every placement (read key).

The route returns the service's answer already rendered by orjson: ``response_model`` keeps
the OpenAPI schema, but FastAPI does not validate and serialise the model a second time on
the way out (that cost as much as a precomputed placement itself).

The route is ``async def`` and calls the (synchronous) service on the event loop: a request is
~1-3 ms of CPU that holds the GIL either way, and the thread-pool hand-off of a ``def`` route
cost about as much again on a busy machine. The store reads are short indexed lookups; with
PostgreSQL over a network, run more workers (``SHOPKEEPER_WORKERS``) rather than threads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shopkeeper.dependencies import ReadKey, ShopDep
from shopkeeper.recommendations.schemas import Recommendations
from shopkeeper.responses import JSONBody

router = APIRouter(prefix="/v1/recommendations", tags=["recommendations"])


@router.get("", response_model=Recommendations, response_class=JSONBody)
async def recommendations(
    shop: ShopDep,
    _key: ReadKey,
    placement: Annotated[str, Query(max_length=40)],
    customer: Annotated[str | None, Query(max_length=320)] = None,
    anonymous_id: Annotated[str | None, Query(alias="anonymousId", max_length=320)] = None,
    product: Annotated[str | None, Query(max_length=100)] = None,
    cart: Annotated[
        str | None, Query(max_length=5000, description="Skus, comma-separated.")
    ] = None,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> JSONBody:
    """Items for a placement (for_you, also_bought, bought_together, similar, trending,
    recently_viewed, buy_again, cart), each with a reason, and the strategy that chose them."""
    skus = [s.strip() for s in cart.split(",") if s.strip()] if cart else None
    result = shop.recommendations.recommend(
        placement, customer=customer, anonymous_id=anonymous_id, product=product, cart=skus, k=k
    )
    return JSONBody(result.model_dump())
