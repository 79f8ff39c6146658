"""Acceptance on simulated shops with ground truth: advocates, the top CLV decile against the next
year's revenue, and the same RFM / KPI tables from DuckDB and Spark.

``simulated`` is a small shop (500 customers, 180 days, seed 7; ~8 s of CPU to simulate and
ingest); ``two_years`` a shop observed for two years (500 customers, seed 7; ~30 s), so that a
year of history can be scored against the whole next year. Each is built once per module, and
only the tests that use it pay for it. Advocates are checked on more seeds in
``test_advocacy.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from .conftest import ENGINES, SPARK_SOCKET_LEAK, SimulatedShop, simulated_shop

SEED = 7
FIRST_YEAR_END = date(2026, 10, 31)  # the simulations start on 2025-11-01


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedShop]:
    shop = simulated_shop(tmp_path_factory.mktemp("simulated"), 500, 180, SEED)
    yield shop
    shop.shop.close()


@pytest.fixture(scope="module")
def two_years(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedShop]:
    shop = simulated_shop(tmp_path_factory.mktemp("two-years"), 500, 730, SEED)
    yield shop
    shop.shop.close()


def test_advocate_candidates_find_the_planted_influencers(simulated: SimulatedShop) -> None:
    precision, recall = simulated.advocates_against_truth()
    assert precision >= 0.8
    assert recall >= 0.8


@pytest.mark.slow  # the two-year shop: ~30 s of CPU
def test_top_clv_decile_captures_most_of_next_years_revenue(two_years: SimulatedShop) -> None:
    with two_years.shop.db.sessions() as session:
        result = two_years.shop.analytics.clv_holdout(session, FIRST_YEAR_END)
    print(
        f"top CLV decile: {result.top_decile_share:.3f} of the next year's revenue "
        f"(past-spend decile {result.past_spend_share:.3f}, hindsight {result.hindsight_share:.3f})"
    )
    assert result.holdout_end == date(2027, 10, 31)  # the last order's day, not today
    assert result.horizon_months == 12
    assert result.top_decile_customers == -(-result.customers // 10)
    assert result.top_decile_share > 0.5  # "most" of the next year's revenue
    assert result.top_decile_share >= result.past_spend_share - 0.02
    assert result.top_decile_share <= result.hindsight_share


@pytest.mark.skipif(len(ENGINES) < 2, reason="PySpark not installed")
@pytest.mark.filterwarnings(SPARK_SOCKET_LEAK)
def test_duckdb_and_spark_give_identical_tables(simulated: SimulatedShop) -> None:
    reports = {}
    base = simulated.shop.settings
    try:
        for engine in ("duckdb", "spark"):
            simulated.shop.settings = base.model_copy(update={"analytics_engine": engine})
            with simulated.shop.db.sessions() as session:
                rfm = simulated.shop.analytics.rfm(session, date(2026, 4, 1), window_days=90)
                kpis = simulated.shop.analytics.kpis(session, "week", "channel")
            reports[engine] = (rfm, kpis)
    finally:
        simulated.shop.settings = base
    (rfm_duck, kpis_duck), (rfm_spark, kpis_spark) = reports["duckdb"], reports["spark"]
    assert len(rfm_duck.customers) > 100
    duck, spark = rfm_duck.model_dump(), rfm_spark.model_dump()
    # Sums of money may differ in the last bit (summation order): approx at 1e-12.
    for theirs, ours in zip(spark.pop("customers"), duck.pop("customers"), strict=True):
        _same_row(theirs, ours)
    assert spark == duck  # segment counts, grid, reference day
    assert kpis_spark.columns == kpis_duck.columns
    assert len(kpis_spark.rows) == len(kpis_duck.rows) > 20
    for theirs, ours in zip(kpis_spark.rows, kpis_duck.rows, strict=True):
        _same_row(theirs, ours)


def _same_row(theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    """Equal, except that floats (sums of money) may differ in the last bits."""
    floats = sorted(k for k, v in ours.items() if isinstance(v, float))
    assert {k: v for k, v in theirs.items() if k not in floats} == {
        k: v for k, v in ours.items() if k not in floats
    }
    assert [theirs[k] for k in floats] == pytest.approx([ours[k] for k in floats], rel=1e-12)
