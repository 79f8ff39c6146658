"""API keys: creation, hashing, lookup and scope checks.

Keys are random 192-bit tokens, so a fast SHA-256 is the right hash (a slow password hash buys
nothing against a key that cannot be guessed). Lookups are cached for a few seconds because
the ingest path checks a key on every request; revocation takes effect within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from shopkeeper.clock import Clock
from shopkeeper.db import Database
from shopkeeper.errors import Forbidden, Invalid, NotFound, Unauthorized
from shopkeeper.models import SCOPES, ApiKey, AuditEntry, new_id

CACHE_SECONDS = 5.0

#: What each key scope may do. ``write`` keys are public (they ship in the browser).
GRANTS: dict[str, frozenset[str]] = {
    "write": frozenset({"write"}),
    "read": frozenset({"read"}),
    "admin": frozenset({"write", "read", "admin"}),
}


@dataclass(frozen=True)
class Principal:
    """The caller behind a request, as established by its key."""

    key_id: str
    scope: str
    name: str

    def allows(self, needed: str) -> bool:
        return needed in GRANTS[self.scope]


@dataclass(frozen=True)
class CreatedKey:
    id: str
    name: str
    scope: str
    secret: str
    created_at: datetime


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    def create(
        self, scope: str, name: str = "", *, secret: str | None = None, actor: str = "cli"
    ) -> CreatedKey:
        """Create a key; the secret is returned once and only its hash is stored.

        ``actor`` is who asked, for the audit log: ``cli`` or the id of the admin key."""
        if scope not in SCOPES:
            raise Invalid(f"scope must be one of {', '.join(SCOPES)}", detail={"field": "scope"})
        secret = secret or f"sk_{scope}_{secrets.token_urlsafe(24)}"
        now = self.clock.now()
        key = ApiKey(
            id=new_id("key"),
            name=name or f"{scope} key",
            scope=scope,
            prefix=secret[:12],
            key_hash=hash_key(secret),
            created_at=now,
            revoked_at=None,
        )
        with self.db.transaction() as session:
            session.add(key)
            session.add(
                AuditEntry(
                    at=now,
                    actor=actor,
                    action="key.create",
                    target=key.id,
                    detail={"scope": scope, "name": key.name},
                )
            )
        return CreatedKey(key.id, key.name, scope, secret, now)

    def list(self) -> list[ApiKey]:
        with self.db.sessions() as session:
            return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))

    def revoke(self, key_id: str, *, actor: str = "cli") -> ApiKey:
        """Revoke a key (idempotent: a revoked key keeps its first revocation time).

        Other processes notice within ``CACHE_SECONDS``."""
        with self.db.transaction() as session:
            key = session.get(ApiKey, key_id)
            if key is None:
                raise NotFound(f"no key {key_id}")
            if key.revoked_at is None:
                key.revoked_at = self.clock.now()
                session.add(
                    AuditEntry(
                        at=key.revoked_at,
                        actor=actor,
                        action="key.revoke",
                        target=key.id,
                        detail={"scope": key.scope, "name": key.name},
                    )
                )
        self._cache.clear()
        return key

    def authenticate(self, secret: str | None, needed: str) -> Principal:
        """The principal for ``secret`` if it may do ``needed``; 401/403 otherwise."""
        if not secret:
            raise Unauthorized("missing API key: send it as HTTP Basic user name or Bearer token")
        principal = self._lookup(secret)
        if principal is None:
            raise Unauthorized("unknown or revoked API key")
        if not principal.allows(needed):
            raise Forbidden(f"a {principal.scope} key cannot do this: {needed} scope needed")
        return principal

    def _lookup(self, secret: str) -> Principal | None:
        digest = hash_key(secret)
        now = self.clock.now().timestamp()
        cached = self._cache.get(digest)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        with self.db.sessions() as session:
            key = session.scalar(
                select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
            )
        principal = Principal(key.id, key.scope, key.name) if key else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now, principal)
        return principal
