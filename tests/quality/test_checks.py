"""The pure scoring rules: known answers for scores, robust z-scores and lag percentiles."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from shopkeeper.quality.checks import (
    CHECKS,
    CURRENCIES,
    DIMENSION_WEIGHTS,
    DIMENSIONS,
    TABLES,
    Count,
    Finding,
    anomalies,
    duration,
    percentile_from_histogram,
    robust_z,
    score,
)


def found(check: str, affected: int, total: int) -> Finding:
    return Finding(CHECKS[check], Count(affected, total))


def test_every_check_is_well_formed() -> None:
    for check in CHECKS.values():
        assert check.table in TABLES, check.id
        assert check.dimension in DIMENSIONS, check.id
        assert check.severity in {"error", "warning", "info"}, check.id
        detail = {
            "p50": "≤1s", "p95": "≤5s", "p99": "≤1m", "hours": 48, "days": 28,
            "cancelled": 1, "refunded": 2, "partially_refunded": 3,
        }  # fmt: skip
        message = Finding(check, Count(1_234, 5_678, (), detail)).message
        assert message.startswith("1,234 of 5,678 "), message
    assert math.isclose(sum(DIMENSION_WEIGHTS.values()), 1.0)


def test_score_is_the_severity_weighted_mean_share() -> None:
    scores = score(
        [
            found("orders.customer_missing", 50, 100),  # warning 0.5, share 0.5
            found("orders.currency_missing", 0, 100),  # warning 0.5, share 0
            found("orders.currency_unknown", 10, 100),  # error 1.0, share 0.1
            found("orders.cancelled", 90, 100),  # info: reported, never scored
        ]
    )
    orders = scores.table_dimensions["orders"]
    assert orders["completeness"] == 75.0  # 100 × (1 − (0.5·0.5 + 0.5·0) / 1)
    assert orders["validity"] == 90.0  # the info check weighs nothing
    assert orders["uniqueness"] is None
    # Table: weighted by dimension (0.20 completeness, 0.25 validity).
    assert scores.tables["orders"] == round((0.20 * 75 + 0.25 * 90) / 0.45, 1)
    assert scores.tables["events"] is None
    assert scores.dimensions["completeness"] == 75.0
    assert scores.overall == scores.tables["orders"]


def test_every_table_counts_the_same_in_a_dimension() -> None:
    scores = score(
        [
            found("events.device_missing", 0, 10_000_000),
            found("customers.email_missing", 100, 100),
        ]
    )
    assert scores.dimensions["completeness"] == 50.0


def test_empty_tables_are_not_scored() -> None:
    scores = score([found("orders.customer_missing", 0, 0)])
    assert scores.overall is None
    assert scores.tables["orders"] is None


def test_robust_z_known_answers() -> None:
    assert [round(z, 2) for z in robust_z([10, 11, 9, 10, 100])] == [0.0, 0.67, -0.67, 0.0, 60.7]
    # MAD = 0 (most days equal): the mean absolute deviation stands in.
    z = robust_z([5, 5, 5, 5, 5, 5, 50])
    assert z[:6] == [0.0] * 6
    assert z[6] == pytest.approx(45 / (1.2533 * 45 / 7))
    assert robust_z([3, 3, 3]) == [0.0, 0.0, 0.0]
    assert robust_z([]) == []


def test_anomalies_flag_beyond_3_5() -> None:
    days = [f"d{i}" for i in range(10)]
    volumes = [100.0, 98, 103, 99, 101, 97, 102, 100, 400, 0]
    flagged = anomalies(days, volumes)
    assert [day for day, _, _ in flagged] == ["d8", "d9"]
    assert flagged[0][2] > 3.5 > -3.5 > flagged[1][2]


def test_percentiles_from_a_histogram() -> None:
    edges = [1, 60, 3_600]
    assert percentile_from_histogram(edges, [90, 5, 4, 1], 0.5) == 1
    assert percentile_from_histogram(edges, [90, 5, 4, 1], 0.95) == 60
    assert percentile_from_histogram(edges, [90, 5, 4, 1], 0.99) == 3_600
    assert math.isinf(percentile_from_histogram(edges, [0, 0, 0, 3], 0.5))
    assert percentile_from_histogram(edges, [0, 0, 0, 0], 0.5) == 0.0


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (1, 60, 3_600, 86_400, math.inf)] == [
        "≤1s", "≤1m", "≤1h", "≤1d", ">30d",
    ]  # fmt: skip


def test_currencies_are_iso_codes() -> None:
    assert {"GBP", "EUR", "USD", "JPY", "CHF"} <= CURRENCIES
    assert all(len(code) == 3 and code.isupper() for code in CURRENCIES)
    assert "XXX" not in CURRENCIES


def test_the_rules_import_no_web_or_database_code() -> None:
    code = (
        "import sys, shopkeeper.quality.checks; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'fastapi', 'starlette', 'pydantic'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
