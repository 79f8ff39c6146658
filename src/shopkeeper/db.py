"""The store's engine and sessions: SQLite (WAL) by default, PostgreSQL by URL.

Services never commit: the request, job or CLI command that opens :meth:`Database.transaction`
owns the transaction.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select

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
        self._idle: list[Reader] = []
        self._plans: dict[tuple[ReadStatement, tuple[int, ...]], _Plan] = {}

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

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """A :class:`Reader` for the hot read paths (serving), in one read transaction.

        Readers keep their DBAPI connection between uses (one per concurrent caller), so a
        request pays for neither a session, a pool checkout nor SQLAlchemy's execution layer:
        several times the SQLite work of an indexed query. Each use sees the last commit.
        """
        try:
            reader = self._idle.pop()
        except IndexError:
            reader = Reader(self)
        reader.begin()
        try:
            yield reader
        except BaseException:
            reader.discard_or_keep(self._idle)
            raise
        reader.discard_or_keep(self._idle)

    def plan(self, statement: ReadStatement, parameters: Mapping[str, Any]) -> _Plan:
        """The SQL and parameter layout of ``statement`` for this engine and these list
        lengths (compiled on first use)."""
        key = (statement, tuple(_bucket(len(parameters[name])) for name in statement.lists))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan.compile(statement, key[1], self.engine.dialect)
        return plan

    def dispose(self) -> None:
        while self._idle:
            self._idle.pop().close()
        self.engine.dispose()


class ReadStatement:
    """A column ``select`` for :meth:`Reader.all` and :func:`read_rows`, built once at import.

    List parameters are ``bindparam(name, expanding=True)``, named in ``lists`` and passed as
    lists; the statement is compiled once per list length up to 8, then per power of two (a
    longer list repeats its last value). ``row``, a ``NamedTuple`` class, shapes the rows.
    """

    def __init__(
        self,
        statement: Select[Any] | Any,
        *,
        lists: tuple[str, ...] = (),
        row: Callable[..., Any] | None = None,
    ) -> None:
        self.statement = statement
        self.lists = lists
        self.row = row


def _bucket(size: int) -> int:
    return size if size <= 8 else 1 << (size - 1).bit_length()


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...] | None  # positional order, or None for named parameters
    fixed: dict[str, Any]  # the statement's own literals, converted
    scalars: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    lists: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    sizes: tuple[int, ...]  # the lists' lengths once padded
    types: tuple[Any, ...]  # the columns' dialect types
    dialect: Dialect
    # per column, its result conversion (or None), from the first cursor's type codes
    columns: list[tuple[Callable[[Any], Any] | None, ...] | None] = field(default_factory=list)

    @classmethod
    def compile(cls, statement: ReadStatement, arity: tuple[int, ...], dialect: Dialect) -> _Plan:
        compiled = statement.statement.compile(dialect=dialect)
        binds = {name: bind for name, bind in compiled.binds.items() if not name.startswith("%")}
        scalars = [n for n, b in binds.items() if b.required and n not in statement.lists]
        dummy: dict[str, Any] = {n: None for n in scalars}
        dummy.update({n: [None] * size for n, size in zip(statement.lists, arity, strict=True)})
        state = compiled.construct_expanded_state(dummy)
        given = set(scalars) | {
            f"{n}_{i}"
            for n, size in zip(statement.lists, arity, strict=True)
            for i in range(1, size + 1)
        }
        missing = given - set(state.parameters)
        if missing:
            raise ValueError(f"cannot lay out parameters {sorted(missing)} of {state.statement}")

        def convert(name: str) -> Callable[[Any], Any] | None:
            base = name if name in binds else name.rpartition("_")[0]
            return binds[base].type.dialect_impl(dialect).bind_processor(dialect)

        fixed = {}
        for name, value in state.parameters.items():
            if name not in given:
                process = convert(name)
                fixed[name] = process(value) if process and value is not None else value
        return cls(
            sql=state.statement,
            names=tuple(state.positiontup) if state.positiontup else None,
            fixed=fixed,
            scalars=tuple((n, convert(n)) for n in scalars),
            lists=tuple((n, convert(n)) for n in statement.lists),
            sizes=arity,
            types=tuple(c.type.dialect_impl(dialect) for c in statement.statement.selected_columns),
            dialect=dialect,
        )

    def conversions(self, description: Any) -> tuple[Callable[[Any], Any] | None, ...] | None:
        """The result conversions, worked out once from the cursor's column type codes (some
        depend on them, e.g. PostgreSQL's numerics)."""
        if not self.columns:
            found = tuple(
                kind.result_processor(self.dialect, column[1])
                for kind, column in zip(self.types, description, strict=True)
            )
            self.columns.append(found if any(found) else None)
        return self.columns[0]

    def arguments(self, parameters: Mapping[str, Any]) -> Any:
        values = dict(self.fixed)
        for name, process in self.scalars:
            value = parameters[name]
            values[name] = process(value) if process and value is not None else value
        for (name, process), size in zip(self.lists, self.sizes, strict=True):
            given = list(parameters[name])
            given += given[-1:] * (size - len(given))
            for i, value in enumerate(given, 1):
                values[f"{name}_{i}"] = process(value) if process and value is not None else value
        if self.names is None:
            return values
        return tuple(values[name] for name in self.names)


class Reader:
    """Runs :class:`ReadStatement` s straight on a DBAPI cursor, in one read transaction.

    Get one from :meth:`Database.reading`. Rows are plain tuples with the columns' types
    converted as SQLAlchemy would (e.g. SQLite's datetime strings); nothing is flushed, so it
    never sees a session's pending changes.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.connection = db.engine.raw_connection()
        self.cursor = self.connection.cursor()
        self._sqlite = db.engine.dialect.name == "sqlite"

    def all(self, statement: ReadStatement, **parameters: Any) -> list[Any]:
        plan = self.db.plan(statement, parameters)
        self.cursor.execute(plan.sql, plan.arguments(parameters))
        rows = cast(list[Any], self.cursor.fetchall())  # DBAPI drivers return a list
        conversions = plan.conversions(self.cursor.description)
        if conversions is not None and rows:
            # column by column: one comprehension per converted column, not a generator per row
            columns: list[Any] = list(zip(*rows, strict=True))
            for n, convert in enumerate(conversions):
                if convert is not None:
                    columns[n] = [None if v is None else convert(v) for v in columns[n]]
            rows = list(zip(*columns, strict=True))
        shape = statement.row
        return rows if shape is None else [shape(*r) for r in rows]

    def first(self, statement: ReadStatement, **parameters: Any) -> Any:
        rows = self.all(statement, **parameters)
        return rows[0] if rows else None

    def begin(self) -> None:
        if self._sqlite:  # the driver is in autocommit mode (see make_engine)
            self.cursor.execute("BEGIN")

    def discard_or_keep(self, idle: list[Reader]) -> None:
        """End the read transaction and go back to ``idle``, or close on a broken
        connection."""
        try:
            self.connection.rollback()
        except Exception:
            self.connection.invalidate()
            return
        idle.append(self)

    def close(self) -> None:
        self.cursor.close()
        self.connection.close()


#: Where a repository's read functions read from: the hot paths' reader or a unit of work.
ReadSource = Session | Reader


def read_rows(
    source: ReadSource, statement: ReadStatement, parameters: dict[str, Any]
) -> list[Any]:
    """The rows of ``statement`` from a :class:`Reader` or from a session — as
    ``session.execute`` would (pending changes flushed first, as autoflush does) but on the
    session's connection, without the ORM layer's per-statement cost. Rows are shaped by
    ``statement.row`` either way, so a repository function serves both: the hot read paths
    with a reader, and services composing a read into a unit of work with its session."""
    if isinstance(source, Reader):
        return source.all(statement, **parameters)
    source.flush()
    rows = source.connection().execute(statement.statement, parameters)
    shape = statement.row
    return list(rows) if shape is None else [shape(*r) for r in rows]


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


#: How long a writer waits for SQLite's write lock before giving up (the connections'
#: ``busy_timeout`` for everything else).
BUSY_SECONDS = 30.0


def begin_immediate(raw: Any, timeout: float = BUSY_SECONDS) -> None:
    """``BEGIN IMMEDIATE`` (take SQLite's write lock), polling every 0.1–1 ms while another
    connection holds it.

    SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries, so when the ingest
    writers of two server processes and the projector take turns on the lock, it sits free
    for milliseconds while the next writer sleeps, and the holder takes it again meanwhile.
    Polling this often costs a few µs a try, and the lock changes hands within a poll.
    """
    deadline = time.monotonic() + timeout
    pause = 0.0001
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.001)
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")


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
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute(f"PRAGMA wal_autocheckpoint={settings.sqlite_checkpoint_pages}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
            if mode == "IMMEDIATE":
                begin_immediate(connection.connection.driver_connection)
            else:
                connection.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **json_options)
