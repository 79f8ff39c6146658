"""Engine selection from settings."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from pydantic import ValidationError

from shopkeeper.analytics import engine
from shopkeeper.errors import BadRequest
from shopkeeper.settings import Settings


def test_duckdb_is_the_default_and_runs_in_utc(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.analytics_engine == "duckdb"
    con = engine.connect(settings)
    try:
        assert con.name == "duckdb"
        assert con.raw_sql("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
    finally:
        con.disconnect()


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, analytics_engine="pandas")


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is not None, reason="PySpark installed")
def test_spark_without_pyspark_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="PySpark"):
        engine.connect(Settings(data_dir=tmp_path, analytics_engine="spark"))
