"""The store's engine and sessions: SQLite (WAL) by default, PostgreSQL by URL.

Services never commit: the request, job or CLI command that opens :meth:`Database.transaction`
owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from shopkeeper.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Database:
    """Owns the engine and hands out sessions. One per process; passed in, never global."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.resolved_database_url
        self.engine = make_engine(settings)
        #: Sessions for reading. On SQLite they begin DEFERRED, so reads never queue behind
        #: the ingest writer (WAL readers see the last commit).
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session for writing, committed on success and rolled back on any error.

        On SQLite it begins IMMEDIATE (takes the write lock up front), which avoids the
        deadlock of two readers both trying to upgrade to writers.
        """
        with self._writes() as session, session.begin():
            yield session

    def migrate(self, revision: str = "heads") -> None:
        """Bring the schema up to ``revision`` with Alembic (idempotent).

        ``heads`` rather than ``head``: domains add their tables in sibling revisions that
        branch from the same parent, and every branch is applied.
        """
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection_url"] = self.url
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def dispose(self) -> None:
        self.engine.dispose()


def read_rows(session: Session, statement: Any, parameters: dict[str, Any]) -> Any:
    """Run a column ``select`` as ``session.execute`` would — pending changes are flushed
    first, as autoflush does — but on the session's connection: plain rows without the ORM
    layer's per-statement cost. ``statement`` is best built once,
    with ``bindparam(..., expanding=True)`` for lists."""
    session.flush()
    return session.connection().execute(statement, parameters)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url
    json_options: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
    }
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **json_options
        )
        synchronous = settings.sqlite_synchronous.upper()
        if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(
                f"SHOPKEEPER_SQLITE_SYNCHRONOUS must be FULL or NORMAL, not {synchronous}"
            )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, open transactions (see _begin).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **json_options)
