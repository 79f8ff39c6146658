"""``/v1/personas``: the current persona cards (read), a new fit (admin), a persona's members."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query

from shopkeeper.dependencies import AdminKey, ReadKey, ShopDep
from shopkeeper.personas.options import FitOptions
from shopkeeper.personas.schemas import FitRequest, MembersOut, PersonaModelOut

router = APIRouter(prefix="/v1/personas", tags=["personas"])


@router.get("")
def current(shop: ShopDep, _key: ReadKey) -> PersonaModelOut:
    """The current persona model: method, k, stability and one card per persona."""
    with shop.db.sessions() as session:
        return shop.personas.current(session)


@router.post("/fit")
def fit(shop: ShopDep, _key: AdminKey, body: FitRequest | None = None) -> PersonaModelOut:
    """Fit a new persona model from the store and make it current (seconds on a large shop)."""
    request = body or FitRequest()
    options = FitOptions(
        method=request.method,
        k=request.k,
        seed=request.seed,
        min_sessions=request.min_sessions,
        bootstrap_rounds=request.bootstrap_rounds,
    )
    with shop.db.transaction() as session:
        return shop.personas.fit(session, options)


@router.get("/{persona_id}/members")
def members(
    shop: ShopDep,
    _key: ReadKey,
    persona_id: int = Path(ge=0, le=100, description="Persona number in the current model."),
    limit: int = Query(100, ge=1, le=10_000),
    offset: int = Query(0, ge=0),
) -> MembersOut:
    """Customer ids holding a persona of the current model, sorted, a page at a time."""
    with shop.db.sessions() as session:
        return shop.personas.members(session, persona_id, limit=limit, offset=offset)
