"""Portable summaries: hand-checked known answers, and lifetimes' summary on CDNOW as oracle."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from ibis.backends import BaseBackend

from shopkeeper.analytics import summary
from shopkeeper.errors import Invalid
from tests.analytics.conftest import CDNOW_END, arrow_table, register

DAY0 = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)  # late evening: days must not round up


def tx(rows: list[tuple[str, datetime, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


def at(days: int) -> datetime:
    return DAY0 + timedelta(days=days)


def test_customer_summary_known_answer(engine: BaseBackend) -> None:
    table = register(
        engine,
        "tx",
        arrow_table(
            tx(
                [
                    ("x", at(0), 10.0),
                    ("x", at(0), 5.0),  # same day: one transaction worth 15
                    ("x", at(3), 20.0),
                    ("x", at(10), 30.0),
                    ("x", at(11), 100.0),  # after the end: ignored
                    ("y", at(4), 7.0),
                    ("z", at(12), 9.0),  # only after the end: absent
                ]
            )
        ),
    )
    end = at(10).date()
    got = summary.customer_summary(table, end).to_pandas().set_index("customer_id").sort_index()
    assert got.index.tolist() == ["x", "y"]
    assert got.loc["x"].to_dict() == {
        "frequency": 2,
        "recency": 10.0,
        "T": 10.0,
        "monetary_value": 25.0,
    }
    assert got.loc["y"].to_dict() == {
        "frequency": 0,
        "recency": 0.0,
        "T": 6.0,
        "monetary_value": 0.0,
    }
    weeks = summary.customer_summary(table, end, unit_days=7).to_pandas().set_index("customer_id")
    assert weeks.loc["y", "T"] == pytest.approx(6 / 7)


def test_rejects_missing_columns_and_bad_units(engine: BaseBackend) -> None:
    table = register(engine, "bad", arrow_table(tx([("x", at(0), 1.0)]).drop(columns="amount")))
    with pytest.raises(Invalid) as excinfo:
        summary.customer_summary(table, date(2026, 2, 1))
    assert excinfo.value.detail == {"field": ["amount"]}
    with pytest.raises(Invalid):
        summary.customer_summary(table, date(2026, 2, 1), unit_days=0)
    with pytest.raises(Invalid):
        summary.rfm_inputs(table, date(2026, 2, 1), window_days=0)


def test_rfm_inputs_window_and_reference(engine: BaseBackend) -> None:
    table = register(
        engine,
        "tx",
        arrow_table(
            tx(
                [
                    ("a", at(0), 10.0),
                    ("a", at(0), 30.0),  # two orders on one day count twice for RFM
                    ("a", at(20), 20.0),
                    ("a", at(40), 999.0),  # after the reference day
                    ("b", at(5), 50.0),  # outside a 20-day window
                ]
            )
        ),
    )
    reference = at(30).date()
    everything = summary.rfm_inputs(table, reference).to_pandas().set_index("customer_id")
    assert everything.loc["a"].to_dict() == {
        "recency_days": 10,
        "frequency": 3,
        "monetary_total": 60.0,
        "average_order_value": 20.0,
    }
    assert everything.loc["b", "recency_days"] == 25
    windowed = summary.rfm_inputs(table, reference, window_days=20).to_pandas()
    assert windowed.to_dict("records") == [
        {
            "customer_id": "a",
            "recency_days": 10,
            "frequency": 1,
            "monetary_total": 20.0,
            "average_order_value": 20.0,
        }
    ]


@pytest.mark.realdata
def test_cdnow_summary_equals_lifetimes(
    engine: BaseBackend, cdnow_sample: pd.DataFrame, lifetimes_summary: pd.DataFrame
) -> None:
    table = register(engine, "cdnow", arrow_table(cdnow_sample))
    got = summary.customer_summary(table, CDNOW_END, unit_days=7).to_pandas()
    got = got.set_index("customer_id").sort_index()
    assert len(got) == 2357
    assert got.index.equals(lifetimes_summary.index)
    assert np.array_equal(got["frequency"].to_numpy(), lifetimes_summary["frequency"].to_numpy())
    for column in ("recency", "T", "monetary_value"):
        np.testing.assert_allclose(got[column], lifetimes_summary[column], rtol=0, atol=1e-9)
