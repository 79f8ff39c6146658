"""The analytics engine: an Ibis backend chosen by settings, so one expression runs anywhere.

``SHOPKEEPER_ANALYTICS_ENGINE=duckdb`` (default) runs in-process with no server;
``spark`` starts (or reuses) a PySpark session on ``SHOPKEEPER_SPARK_MASTER`` for shops that
outgrow one machine. PySpark is imported only when asked for, so the default install never
needs Java.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis.backends import BaseBackend

from shopkeeper.errors import BadRequest
from shopkeeper.settings import Settings


def connect(settings: Settings) -> BaseBackend:
    """Return a fresh Ibis backend for ``settings.analytics_engine``.

    DuckDB gets a private in-memory database (tables are registered per run, e.g. from Arrow);
    Spark gets the active session for the configured master, created if needed. Both use UTC
    as the session time zone, so timestamps fall on the same calendar day everywhere.
    """
    if settings.analytics_engine == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")  # days are UTC calendar days on every engine
        return con
    if settings.analytics_engine == "spark":
        session = _spark_session(settings.spark_master)  # before ibis.pyspark, which needs it
        return ibis.pyspark.connect(session)
    raise BadRequest(
        f"unknown analytics engine {settings.analytics_engine!r}; use duckdb or spark",
        detail={"field": "analytics_engine"},
    )


def _spark_session(master: str) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BadRequest(
            "the spark analytics engine needs PySpark (pip install 'pyspark<4.1') and Java 17",
            detail={"field": "analytics_engine"},
        ) from exc
    return (
        SparkSession.builder.master(master)
        .appName("shopkeeper-analytics")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
