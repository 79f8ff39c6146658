"""API key routes (admin keys only): create (secret shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, status

from shopkeeper.auth.schemas import KeyCreated, KeyIn, KeyOut
from shopkeeper.dependencies import AdminKey, ShopDep

router = APIRouter(tags=["keys"])


@router.post("/v1/keys", status_code=status.HTTP_201_CREATED)
def create_key(body: KeyIn, shop: ShopDep, principal: AdminKey) -> KeyCreated:
    """Create a key. The response is the only place its secret ever appears."""
    key = shop.keys.create(body.scope, body.name, actor=principal.key_id)
    return KeyCreated(
        id=key.id, name=key.name, scope=key.scope, secret=key.secret, created_at=key.created_at
    )


@router.get("/v1/keys")
def list_keys(shop: ShopDep, _principal: AdminKey) -> list[KeyOut]:
    """Every key, revoked ones included, without secrets or hashes."""
    return [KeyOut.model_validate(key) for key in shop.keys.list()]


@router.delete("/v1/keys/{key_id}")
def revoke_key(key_id: str, shop: ShopDep, principal: AdminKey) -> KeyOut:
    """Revoke a key; it stops working within seconds. Revoking twice is harmless."""
    return KeyOut.model_validate(shop.keys.revoke(key_id, actor=principal.key_id))
