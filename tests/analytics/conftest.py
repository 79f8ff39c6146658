"""Analytics fixtures: an engine connection and the CDNOW sample as a transactions table.

``engine`` is the one place that says which backends the suite covers; adding Spark is a
parameter here, not a second copy of the tests.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from shopkeeper.analytics import engine as analytics_engine
from shopkeeper.settings import Settings

CDNOW_END = date(1997, 9, 30)


@pytest.fixture(params=["duckdb"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseBackend]:
    con = analytics_engine.connect(Settings(data_dir=tmp_path, analytics_engine=request.param))
    yield con
    con.disconnect()


def load_cdnow_sample(shared_data: Path) -> pd.DataFrame:
    """CDNOW sample rows as ``customer_id, timestamp, amount`` (the transactions schema)."""
    raw = pd.read_csv(shared_data / "cdnow" / "cdnow_sample.csv.gz", dtype=str)
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["dollar_value"].astype(float),
        }
    )


@pytest.fixture
def cdnow_sample(shared_data: Path) -> pd.DataFrame:
    return load_cdnow_sample(shared_data)


@pytest.fixture
def lifetimes_summary(cdnow_sample: pd.DataFrame) -> pd.DataFrame:
    """The oracle: lifetimes' summary of the CDNOW calibration period, recency/T in weeks."""
    utils = pytest.importorskip("lifetimes.utils")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas API drift warnings inside lifetimes
        summary = utils.summary_data_from_transaction_data(
            cdnow_sample,
            "customer_id",
            "timestamp",
            monetary_value_col="amount",
            observation_period_end=str(CDNOW_END),
            freq="D",
        )
    summary["recency"] /= 7
    summary["T"] /= 7
    return summary.sort_index()


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)
