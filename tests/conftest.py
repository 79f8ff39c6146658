"""Shared fixtures. Store tests run on SQLite *and* on a real PostgreSQL server.

PostgreSQL is reached at ``SHOPKEEPER_TEST_POSTGRES`` (default: postgres@127.0.0.1:5432, trust
auth). On a developer's machine without it, PostgreSQL cases skip with a message; in CI
(``CI=true``) an unreachable server fails the run instead, so it can never be skipped silently.
"""

from __future__ import annotations

import os
import sys

# One BLAS thread per test worker: two xdist workers on two cores plus OpenBLAS's own thread
# pool oversubscribe the machine, and a tiny EASE inverse once spun for minutes that way.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from shopkeeper import cli
from shopkeeper.app import create_app
from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.db import Database
from shopkeeper.models import Base
from shopkeeper.settings import Settings

PG_ADMIN = os.environ.get(
    "SHOPKEEPER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432"
)
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_reachable() -> str | None:
    import psycopg

    try:
        with psycopg.connect(_libpq(PG_ADMIN, "postgres"), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def _libpq(url: str, dbname: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    host, port, user = u.host or "127.0.0.1", u.port or 5432, u.username or "postgres"
    return f"host={host} port={port} user={user} dbname={dbname}"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated, dropped at the end."""
    import psycopg

    problem = _pg_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL must run in CI but is unreachable: {problem}", pytrace=False)
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN}: {problem}")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"shopkeeper_test_{worker}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(PG_ADMIN, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN}/{name}"
    db = Database(Settings(database_url=url))
    db.migrate()
    db.dispose()
    yield url
    with psycopg.connect(_libpq(PG_ADMIN, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if backend == "postgresql":
        url = request.getfixturevalue("pg_database")
        return Settings(data_dir=tmp_path, database_url=url, log_json=False)
    return Settings(data_dir=tmp_path, log_json=False, sqlite_synchronous="NORMAL")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
def shop(settings: Settings, clock: FixedClock) -> Iterator[Shopkeeper]:
    """An opened, migrated, empty store on the backend under test."""
    shop = Shopkeeper.open(settings, clock=clock)
    shop.migrate()
    _truncate(shop.db)
    yield shop
    shop.close()


def _truncate(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def client(shop: Shopkeeper) -> Iterator[TestClient]:
    with TestClient(create_app(shop)) as c:
        yield c


@pytest.fixture
def keys(shop: Shopkeeper) -> dict[str, str]:
    """One secret per scope."""
    return {
        scope: shop.keys.create(scope, f"test {scope}").secret
        for scope in ("write", "read", "admin")
    }


def basic(key: str) -> dict[str, str]:
    """Authorization header as the Segment SDKs send it: Basic base64(key + ':')."""
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; absent on a user's machine (skip), required in CI (fail)."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(
                f"realdata tests must run in CI but {SHARED_DATA} is missing", pytrace=False
            )
        pytest.skip(f"real data not found at {SHARED_DATA} (clone with ../shared beside the repo)")
    return SHARED_DATA


@pytest.fixture
def run(
    shop: Shopkeeper, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run ``shopkeeper ARGS`` against the test store; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(shop.settings.data_dir))
    monkeypatch.setenv("SHOPKEEPER_DATABASE_URL", shop.settings.resolved_database_url)
    monkeypatch.setattr(cli.console, "width", 200)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["shopkeeper", *args])
        code = 0
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run
