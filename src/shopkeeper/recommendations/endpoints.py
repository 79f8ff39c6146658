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

from fastapi import APIRouter

from shopkeeper.dependencies import ReadKey, ShopDep, query_of, query_openapi
from shopkeeper.recommendations.schemas import RecommendationQuery, Recommendations
from shopkeeper.responses import JSONBody

router = APIRouter(prefix="/v1/recommendations", tags=["recommendations"])


@router.get(
    "",
    response_model=Recommendations,
    response_class=JSONBody,
    openapi_extra=query_openapi(RecommendationQuery),
)
async def recommendations(
    shop: ShopDep,
    _key: ReadKey,
    query: Annotated[RecommendationQuery, query_of(RecommendationQuery)],
) -> JSONBody:
    """Items for a placement (for_you, also_bought, bought_together, similar, trending,
    recently_viewed, buy_again, cart), each with a reason, and the strategy that chose them."""
    result = shop.recommendations.recommend(
        query.placement,
        customer=query.customer,
        anonymous_id=query.anonymous_id,
        product=query.product,
        cart=query.cart_skus(),
        k=query.k,
    )
    return JSONBody(result.model_dump())
