"""The auth matrix: every route of the running app, against the scope it is declared to need.

Routes are read from the app itself, so a route added without an entry in :data:`REQUIRED`
fails here, naming the route: declaring who may call it is part of adding it. For each route:
no key -> 401, an unknown key -> 401, and each scope's key -> 403 unless that scope grants
the required one (admin grants everything, write only write, read only read).

Keys of :data:`REQUIRED` are ``"METHOD /path"`` with path parameters written ``{}`` whatever
their name; ``*`` globs (fnmatch). The first matching entry wins, so specific entries go first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

import pytest
from fastapi.testclient import TestClient
from tests.conftest import basic

from shopkeeper.auth.service import GRANTS
from shopkeeper.models import SCOPES

#: Routes that need no key at all.
PUBLIC = frozenset(
    {"/healthz", "/metrics", "/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc"}
)

REQUIRED: dict[str, str] = {
    # collection (Segment-compatible): write keys, which ship in browsers and apps
    "POST /v1/track": "write",
    "POST /v1/identify": "write",
    "POST /v1/page": "write",
    "POST /v1/screen": "write",
    "POST /v1/group": "write",
    "POST /v1/alias": "write",
    "POST /v1/batch": "write",
    # privacy and consent changes: admin
    "GET /v1/customers/{}/export": "admin",
    "DELETE /v1/customers/{}": "admin",
    "PUT /v1/customers/{}/consent": "admin",
    # a customer's segments, with reasons: read
    "GET /v1/customers/{}/segments": "read",
    # triggers: definitions and a customer's firings
    "GET /v1/triggers": "read",
    "GET /v1/customers/{}/triggers": "read",
    # profiles: read
    "GET /v1/customers*": "read",
    # catalog
    "PUT /v1/products*": "admin",
    "POST /v1/products/bulk": "admin",
    "GET /v1/products*": "read",
    # recommendations
    "GET /v1/recommendations*": "read",
    # data-quality scorecard
    "GET /v1/quality": "read",
    # customer value analytics
    "GET /v1/analytics/rfm": "read",
    "GET /v1/analytics/rfm/movements": "read",
    "GET /v1/analytics/clv": "read",
    "GET /v1/analytics/kpis": "read",
    "GET /v1/analytics/cohorts": "read",
    "GET /v1/analytics/high-value": "read",
    "GET /v1/analytics/advocates": "read",
    # segments: definitions, evaluation and the audience export are admin; reading is read
    "POST /v1/segments": "admin",
    "PUT /v1/segments/{}": "admin",
    "DELETE /v1/segments/{}": "admin",
    "POST /v1/segments/{}/evaluate": "admin",
    "GET /v1/segments/{}/export.csv": "admin",
    "GET /v1/segments*": "read",
    # personas
    "GET /v1/personas": "read",
    "POST /v1/personas/fit": "admin",
    "GET /v1/personas/{}/members": "read",
    # administration
    "* /v1/keys*": "admin",
    "* /v1/merges*": "admin",
}

PARAM = re.compile(r"\{[^}]*\}")


def app_routes(client: TestClient) -> Iterator[tuple[str, str]]:
    """``(method, path)`` of every route the app serves, nested routers included."""
    try:  # FastAPI >= 0.130 keeps included routers nested; this flattens them
        from fastapi.routing import iter_route_contexts

        routes = list(iter_route_contexts(client.app.routes))  # type: ignore[attr-defined]
    except ImportError:
        routes = list(client.app.routes)  # type: ignore[attr-defined]
    for route in routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path is None or not methods or path in PUBLIC:
            continue
        for method in sorted(set(methods) - {"HEAD", "OPTIONS"}):
            yield method, path


def required_scope(method: str, path: str) -> str | None:
    route = f"{method} {PARAM.sub('{}', path)}"
    return next((scope for pattern, scope in REQUIRED.items() if fnmatchcase(route, pattern)), None)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    url = PARAM.sub("1", path)
    body = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
    return client.request(method, url, headers=headers, **body).status_code  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["sqlite"])  # about the app, not the store
def test_every_route_requires_its_declared_scope(client: TestClient, keys: dict[str, str]) -> None:
    problems: list[str] = []
    routes = list(app_routes(client))
    assert len(routes) > 10, routes
    for method, path in routes:
        route = f"{method} {path}"
        needed = required_scope(method, path)
        if needed is None:
            problems.append(f"{route}: no scope declared in tests/auth/test_matrix.py REQUIRED")
            continue
        for label, headers in (("no key", {}), ("unknown key", basic("sk_admin_not-a-real-key"))):
            status = call(client, method, path, headers)
            if status != 401:
                problems.append(f"{route} with {label}: {status}, expected 401")
        for scope in SCOPES:
            status = call(client, method, path, basic(keys[scope]))
            allowed = needed in GRANTS[scope]
            if allowed and status in {401, 403}:
                problems.append(f"{route} needs {needed}; a {scope} key got {status}")
            if not allowed and status != 403:
                problems.append(f"{route} needs {needed}; a {scope} key got {status}, expected 403")
    assert not problems, "auth matrix:\n" + "\n".join(problems)


def test_declared_table_matches_the_brief() -> None:
    assert required_scope("DELETE", "/v1/customers/{customer_id}") == "admin"
    assert required_scope("GET", "/v1/customers/{identifier}/export") == "admin"
    assert required_scope("GET", "/v1/customers/{identifier}") == "read"
    assert required_scope("POST", "/v1/customers/{identifier}/notes") is None
