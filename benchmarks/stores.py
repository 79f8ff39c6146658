"""Fresh stores and real server processes for the benchmarks, on SQLite or PostgreSQL.

A :class:`BenchStore` creates an empty store (a new data directory, or a new PostgreSQL
database), migrates it, creates a write and a read key through the Python API, and starts
``python -m shopkeeper serve`` on a free loopback port via the tests' ``LiveServer``, so the
benchmarks measure exactly what a deployment runs.
"""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select
from tests.live_server import LiveServer

from shopkeeper.application import Shopkeeper
from shopkeeper.events.kinds import SYSTEM_KINDS
from shopkeeper.models import Customer, Event
from shopkeeper.settings import Settings

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
PG_ADMIN_URL = os.environ.get(
    "SHOPKEEPER_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class BenchStore:
    """One store + its server. Use as a context manager; everything is removed afterwards."""

    backend: str
    keep: Path | None = None  # a data dir (SQLite) or marker dir (PostgreSQL) to reuse
    env: dict[str, str] = field(default_factory=dict)
    data_dir: Path = field(init=False)
    database: str | None = field(default=None, init=False)
    write_key: str = field(default="", init=False)
    read_key: str = field(default="", init=False)
    server: LiveServer | None = field(default=None, init=False)
    page_cache: dict[str, float] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.keep is not None:
            self.keep.mkdir(parents=True, exist_ok=True)
            self.data_dir = self.keep
        else:
            self.data_dir = Path(tempfile.mkdtemp(prefix=f"shopkeeper-bench-{self.backend}-"))
        if self.backend == "postgresql":
            marker = self.data_dir / "database.txt"
            if marker.exists():
                self.database = marker.read_text().strip()
            else:
                self.database = f"shopkeeper_bench_{uuid.uuid4().hex[:10]}"
                _admin(f'CREATE DATABASE "{self.database}"')
                marker.write_text(self.database)
        elif self.backend != "sqlite":
            raise ValueError(f"unknown backend {self.backend!r}")
        self.settings = Settings(
            data_dir=self.data_dir, database_url=self.database_url, sqlite_synchronous="FULL"
        )
        keys = self.data_dir / "keys.txt"
        if keys.exists():
            self.write_key, self.read_key = keys.read_text().split()
            return
        shop = Shopkeeper.open(self.settings)
        try:
            shop.migrate()
            self.write_key = shop.keys.create("write", "benchmark").secret
            self.read_key = shop.keys.create("read", "benchmark").secret
        finally:
            shop.close()
        keys.write_text(f"{self.write_key} {self.read_key}")

    @property
    def database_url(self) -> str | None:
        if self.database is None:
            return None
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + self.database

    def start(self) -> LiveServer:
        env = {
            "SHOPKEEPER_DATA_DIR": str(self.data_dir),
            "SHOPKEEPER_SQLITE_SYNCHRONOUS": "FULL",
            **self.env,
        }
        if self.database_url:
            env["SHOPKEEPER_DATABASE_URL"] = self.database_url
        else:
            env.pop("SHOPKEEPER_DATABASE_URL", None)
        os.environ.pop("SHOPKEEPER_DATABASE_URL", None)  # the child must not inherit another
        self.page_cache = self.warm_page_cache()
        self.server = LiveServer(env, self.data_dir / "server.log").start(timeout=60)
        return self.server

    def warm_page_cache(self) -> dict[str, float]:
        """Read a SQLite store's files once, so the server starts on them cached in memory as
        a server that has been running finds them, and return the kernel's page-cache size
        (``Cached`` in ``/proc/meminfo``) before and after, in MB.

        On the benchmark host something reclaims the page cache to about 3 GB with 20 GB free,
        and the serving and profile stores are 2.3 and 2.6 GB: one was partly on disk, and its
        reads went to disk in the middle of a latency run.
        """
        if self.backend != "sqlite":
            return {}
        files = [self.data_dir / f"shopkeeper.db{suffix}" for suffix in ("", "-wal")]
        before = _cached_mb()
        size = 0
        for path in files:
            if path.exists():
                with path.open("rb") as handle:
                    while chunk := handle.read(1 << 22):
                        size += len(chunk)
        return {
            "store_mb": round(size / 2**20),
            "page_cache_mb_before": before,
            "page_cache_mb_after": _cached_mb(),
        }

    @property
    def pid(self) -> int:
        assert self.server
        assert self.server.process
        return self.server.process.pid

    def stop(self) -> None:
        if self.server:
            self.server.stop()
            self.server = None

    def counts(self) -> dict[str, int]:
        """Rows in the store: what was durably written, independent of what the client saw.

        ``events`` counts the events clients sent; ``trigger_events`` the ``trigger_fired``
        events Shopkeeper wrote about them (``SHOPKEEPER_TRIGGERS``).
        """
        shop = Shopkeeper.open(self.settings)
        sent = Event.kind.notin_(sorted(SYSTEM_KINDS))
        try:
            with shop.db.sessions() as session:
                return {
                    "events": int(session.scalar(select(func.count()).where(sent)) or 0),
                    "trigger_events": int(session.scalar(select(func.count()).where(~sent)) or 0),
                    "customers": int(
                        session.scalar(
                            select(func.count())
                            .select_from(Customer)
                            .where(Customer.merged_into_id.is_(None))
                        )
                        or 0
                    ),
                }
        finally:
            shop.close()

    def projection_lag(self) -> int:
        """Events stored whose facts the server has not applied yet."""
        shop = Shopkeeper.open(self.settings)
        try:
            return shop.events.projector.lag()
        finally:
            shop.close()

    def close(self) -> None:
        self.stop()
        if self.keep is not None:
            return
        if self.database:
            _admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> BenchStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _admin(sql: str) -> None:
    import psycopg

    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


def _cached_mb() -> float:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("Cached:"):
                    return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return float("nan")


#: One Segment call as a browser SDK sends it: what :func:`host_speed_ms` decodes and walks.
_PROBE_CALL = orjson.dumps(
    {
        "type": "track",
        "event": "Product Viewed",
        "messageId": "probe-0001",
        "anonymousId": "anon-probe",
        "userId": "user-probe",
        "timestamp": "2026-12-07T12:00:00.000Z",
        "properties": {"sku": "SKU-1", "price": 12.5, "category": "Home/Kitchen", "brand": "X"},
        "context": {
            "ip": "203.0.113.9",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
            "page": {"url": "https://shop.example/p/1", "referrer": "https://search.example/"},
            "locale": "en-GB",
            "library": {"name": "analytics.js", "version": "4.1.0"},
        },
    }
)


def host_speed_ms(calls: int = 40_000, repeats: int = 5) -> float:
    """CPU milliseconds this host takes for a fixed piece of pure Python (decode ``calls``
    Segment calls and walk their fields), the best of ``repeats``.

    This 2-core host is a virtual machine whose speed moves by up to ~2× between phases of
    the day; every result records this figure before and after its run, so runs can be
    compared on the host's speed (lower is faster). It replaces timing ``gc_bench`` by hand.
    """
    best = float("inf")
    for _ in range(repeats):
        began = time.process_time()
        for _ in range(calls):
            call = orjson.loads(_PROBE_CALL)
            sorted(call["context"])
            sorted(call["properties"])
        best = min(best, time.process_time() - began)
    return round(best * 1000, 1)


def machine() -> dict[str, Any]:
    """The facts a reader needs to judge the figures: cores, CPU, versions, date, commit."""
    info: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": platform.processor() or "",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        import psycopg

        url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, connect_timeout=3) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else None
    except Exception:
        info["postgresql"] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        ).stdout.strip()
        info["commit"] = commit
    except OSError:
        pass
    return info
