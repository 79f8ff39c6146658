"""The analytics engine: an Ibis backend chosen by settings, so one expression runs anywhere.

``SHOPKEEPER_ANALYTICS_ENGINE=duckdb`` (default) runs in-process with no server;
``spark`` starts (or reuses) a PySpark session on ``SHOPKEEPER_SPARK_MASTER`` for shops that
outgrow one machine. PySpark is imported only when asked for, so the default install never
needs Java.

The analytics code never branches on the engine. The three places where the engines differ in
*capability* (not in results) are here and only here:

* :func:`connect` — DuckDB: a private in-memory database per call. Spark: one JVM and
  ``SparkContext`` per process (starting one costs 7-12 s), and per call a ``newSession()`` of
  it, which shares the context but has its own temporary views and SQL settings, so two
  concurrent analyses never see each other's ``orders`` table.
* :func:`register` — Arrow data becomes a *temporary* table: DuckDB ``create_table(temp=True)``
  (zero-copy from Arrow); Spark has no temporary tables in Ibis 12, so the Arrow table becomes a
  DataFrame (Spark's Arrow path) registered as a temporary view. Never a managed table: that
  would write files under ``spark-warehouse/`` in the working directory.
* :func:`close` — DuckDB: disconnect. Spark: drop this session's views only; Ibis'
  ``disconnect()`` would ``stop()`` the shared context for every other user in the process.
  :func:`stop_spark` ends the process-wide session (tests, shutdown).

A local Spark session is made quiet and small: log level ``ERROR``, no web UI, and as many
shuffle partitions as cores (the default 200 makes every group-by on a small shop schedule 200
tasks, which is most of a local query's time).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from shopkeeper.errors import BadRequest
from shopkeeper.settings import Settings

_LOCK = threading.Lock()
_SPARK: dict[str, Any] = {}  # master -> the process' root session (the context's owner)
_LOCAL_MASTER = re.compile(r"local(\[(\d+|\*)(,\d+)?\])?$")


def connect(settings: Settings) -> BaseBackend:
    """Return a fresh Ibis backend for ``settings.analytics_engine``.

    DuckDB gets a private in-memory database (tables are registered per run, e.g. from Arrow);
    Spark gets a new session of the process' Spark context for the configured master, created
    if needed. Both use UTC as the session time zone, so timestamps fall on the same calendar
    day everywhere. Release it with :func:`close`, not ``disconnect()``.
    """
    if settings.analytics_engine == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")  # days are UTC calendar days on every engine
        return con
    if settings.analytics_engine == "spark":
        session = spark_session(settings.spark_master, settings.data_dir).newSession()
        return ibis.pyspark.connect(session)
    raise BadRequest(
        f"unknown analytics engine {settings.analytics_engine!r}; use duckdb or spark",
        detail={"field": "analytics_engine"},
    )


def register(con: BaseBackend, name: str, table: pa.Table) -> Any:
    """Make the Arrow ``table`` queryable as ``name`` in ``con`` for this connection only.

    Returns the Ibis table expression. Replaces an earlier table or view of the same name.
    """
    if con.name == "pyspark":
        session: Any = con._session
        session.createDataFrame(table).createOrReplaceTempView(name)
        return con.table(name)
    return con.create_table(name, table, temp=True, overwrite=True)


def close(con: BaseBackend) -> None:
    """Release ``con``: disconnect DuckDB; drop a Spark session's views, keep the context."""
    if con.name == "pyspark":
        session: Any = con._session
        for view in session.catalog.listTables():
            if view.isTemporary:
                session.catalog.dropTempView(view.name)
        return
    con.disconnect()


def spark_session(master: str, data_dir: Path | None = None) -> Any:
    """The process-wide Spark session for ``master``, started (quietly) on first use.

    Spark creates its (unused: we only register temporary views) warehouse directory at
    start; it goes under ``data_dir`` instead of the working directory.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BadRequest(
            "the spark analytics engine needs PySpark (pip install 'pyspark<4.1') and Java 17",
            detail={"field": "analytics_engine"},
        ) from exc
    with _LOCK:
        if master in _SPARK:
            return _SPARK[master]
        local = _LOCAL_MASTER.match(master)
        if local:
            # A local session talks to itself only; without this Spark looks up the host's
            # public address and warns when the host name resolves to loopback.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        warehouse = (data_dir or Path(tempfile.gettempdir())) / "spark-warehouse"
        cores = local.group(2) if local and local.group(2) not in (None, "*") else None
        partitions = cores or str(os.cpu_count() or 2)
        session = (
            SparkSession.builder.master(master)
            .appName("shopkeeper-analytics")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", partitions)
            .config("spark.default.parallelism", partitions)
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.sql.warehouse.dir", str(warehouse.resolve()))
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        _SPARK[master] = session
        return session


def stop_spark() -> None:
    """Stop the process-wide Spark session if one was started here."""
    with _LOCK:
        for master in list(_SPARK):
            _SPARK.pop(master).stop()
