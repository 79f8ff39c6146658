"""Analytics fixtures: an engine connection and the CDNOW sample as a transactions table.

``engine`` is the one place that says which backends the suite covers; adding Spark is a
parameter here, not a second copy of the tests.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from shopkeeper.analytics import engine as analytics_engine
from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.customers.repository import find_customer
from shopkeeper.orders.schemas import OrderIn, OrderLineIn
from shopkeeper.settings import Settings
from shopkeeper.simulator.commands import simulate_to_store
from shopkeeper.simulator.shop import SimulationConfig

CDNOW_END = date(1997, 9, 30)


#: PySpark 4.0 leaves the loopback socket it streams a result's Arrow batches over to the
#: garbage collector (``toPandas`` -> ``_collect_as_arrow`` -> ``local_connect_and_auth``), which
#: pytest reports as an unraisable ResourceWarning. Ignored on Spark test cases only, and only
#: for sockets whose both ends are 127.0.0.1, so every other warning stays an error.
SPARK_SOCKET_LEAK = (
    r"ignore:Exception ignored in. <socket.socket fd=\d+, family=2, type=1, proto=6, "
    r"laddr=\('127\.0\.0\.1', \d+\), raddr=\('127\.0\.0\.1', \d+\)>"
    ":pytest.PytestUnraisableExceptionWarning"
)

#: Engines every analytics test runs on: DuckDB, and Spark when PySpark is installed (the dev
#: extra installs it, so CI always has it), with no other change to the tests.
ENGINES = (
    ("duckdb", pytest.param("spark", marks=pytest.mark.filterwarnings(SPARK_SOCKET_LEAK)))
    if importlib.util.find_spec("pyspark")
    else ("duckdb",)
)


@pytest.fixture(scope="session")
def spark_started() -> Iterator[None]:
    """One Spark session per test worker: the 7-12 s start is paid once, stopped at the end."""
    yield
    analytics_engine.stop_spark()


@pytest.fixture(params=ENGINES)
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, spark_started: None
) -> Iterator[BaseBackend]:
    con = analytics_engine.connect(Settings(data_dir=tmp_path, analytics_engine=request.param))
    yield con
    analytics_engine.close(con)


def register(con: BaseBackend, name: str, frame: pd.DataFrame | pa.Table) -> Any:
    """``frame`` as a temporary table of ``con`` (see :func:`engine.register`)."""
    table = frame if isinstance(frame, pa.Table) else arrow_table(frame)
    return analytics_engine.register(con, name, table)


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


# --- a small store with known answers -----------------------------------------------------

REFERENCE = date(2026, 11, 1)
OCTOBER = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))

#: (order id, user, placed day, total, status); every order has 2 product items and postage.
ORDERS = (
    ("O1", "u1", date(2026, 9, 15), "30", "completed"),
    ("O2", "u1", date(2026, 10, 20), "50", "completed"),
    ("O3", "u1", date(2026, 10, 30), "100", "completed"),
    ("O4", "u2", date(2026, 10, 25), "200", "completed"),
    ("O5", "u3", date(2026, 8, 1), "20", "completed"),
    ("O6", "u3", date(2026, 8, 15), "20", "completed"),
    ("O7", "u3", date(2026, 10, 10), "30", "completed"),
    ("O8", "u4", date(2026, 6, 1), "500", "completed"),
    ("O9", "u4", date(2026, 10, 1), "60", "cancelled"),
    ("O10", "u5", date(2026, 7, 1), "10", "completed"),
    ("O11", "u5", date(2026, 10, 28), "80", "refunded"),
    ("O12", "u6", date(2026, 9, 20), "40", "completed"),
    ("O13", None, date(2026, 10, 30), "40", "completed"),
)
USERS = ("u1", "u2", "u3", "u4", "u5", "u6")

#: Hand-computed RFM inputs on REFERENCE: user -> (recency days, orders, total spend).
RFM_INPUTS = {
    "u1": (2, 3, 180.0),
    "u2": (7, 1, 200.0),
    "u3": (22, 3, 70.0),
    "u4": (153, 1, 500.0),
    "u5": (123, 1, 10.0),
    "u6": (42, 1, 40.0),
}


def _event(n: int, user: str | None, kind: str, day: date, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "messageId": f"m{n}",
        "timestamp": datetime.combine(day, time(12), tzinfo=UTC).isoformat(),
        **extra,
    }
    event["userId" if user else "anonymousId"] = user or "a9"
    if kind == "page":
        event["type"] = "page"
    else:
        event.update(type="track", event=kind)
    return event


def store_events() -> list[dict[str, Any]]:
    """October: 8 on-site sessions by 4 visitors, 4 e-mail opens and 1 click, 3 advocacy."""
    october = date(2026, 10, 5)
    rows: list[tuple[str | None, str, date, str | None]] = [
        ("u1", "page", date(2026, 10, 20), "s1"),
        ("u1", "page", date(2026, 10, 20), "s1"),
        ("u1", "page", date(2026, 10, 30), "s2"),
        ("u2", "page", date(2026, 10, 24), "s3"),
        ("u2", "page", date(2026, 10, 25), "s5"),
        ("u2", "page", date(2026, 10, 26), "s6"),
        ("u3", "page", october, "s4"),
        (None, "page", date(2026, 10, 11), None),
        (None, "page", date(2026, 10, 11), None),
        (None, "page", date(2026, 10, 12), None),
        ("u1", "Email Opened", october, None),
        ("u1", "Email Opened", october, None),
        ("u1", "Email Link Clicked", october, None),
        ("u2", "Email Opened", october, None),
        ("u2", "Email Opened", october, None),
        ("u1", "Product Reviewed", date(2026, 10, 20), "s1"),
        ("u1", "Product Reviewed", date(2026, 10, 20), "s1"),
        ("u1", "Product Shared", date(2026, 10, 20), "s1"),
        ("u4", "page", date(2026, 6, 1), "s0"),
        ("u5", "page", date(2026, 7, 1), "s7"),
        ("u6", "page", date(2026, 9, 20), "s8"),
    ]
    events = [
        _event(i, user, kind, day, context={"sessionId": sid} if sid else {})
        for i, (user, kind, day, sid) in enumerate(rows)
    ]
    events += [_event(100 + i, user, "signed_in", date(2026, 1, 1)) for i, user in enumerate(USERS)]
    return events


@pytest.fixture(params=ENGINES)
def store(shop: Shopkeeper, request: pytest.FixtureRequest, spark_started: None) -> dict[str, str]:
    """The small store above, analysed on each of :data:`ENGINES`; returns user -> customer id.

    Spark runs on the SQLite store only: the store -> engine path (Arrow batches from
    SQLAlchemy) is the same for both stores and is covered on DuckDB x PostgreSQL, and every
    Spark case costs seconds of JVM planning, so spark x postgresql would double that for no
    new path.
    """
    if request.param == "spark" and shop.db.dialect == "postgresql":
        pytest.skip("Spark is exercised on the SQLite store (same Arrow path as PostgreSQL)")
    shop.settings = shop.settings.model_copy(update={"analytics_engine": request.param})
    result = shop.events.ingest(store_events())
    assert not result.errors
    with shop.db.transaction() as session:
        ids = {}
        for user in USERS:
            customer = find_customer(session, user)
            assert customer is not None
            ids[user] = customer.id
        orders = [
            OrderIn(
                id=oid,
                customer_id=ids[user] if user else None,
                status=status,
                total=Decimal(total),
                placed_at=datetime.combine(day, time(10), tzinfo=UTC),
                lines=[
                    OrderLineIn(sku="SKU1", quantity=2, unit_price=Decimal(total) / 2),
                    OrderLineIn(sku="POST", name="POSTAGE", quantity=1, is_product=False),
                ],
            )
            for oid, user, day, total, status in ORDERS
        ]
        shop.orders.record(session, orders)
    return ids


# --- simulated shops with ground truth ----------------------------------------------------


@dataclass(frozen=True)
class SimulatedShop:
    """A simulated shop in a SQLite store, and the truth labels of the customers it knows.

    The labels (influencers, expected value) come from the simulator's truth file and are only
    used to score results, never to compute them.
    """

    shop: Shopkeeper
    influencers: set[str]  # planted influencers the store knows as customers (by userId)
    expected_value: dict[str, float]  # customer id -> the simulator's expected annual value

    def advocates_against_truth(self) -> tuple[float, float]:
        """(precision, recall) of the advocate candidates against the planted influencers."""
        with self.shop.db.sessions() as session:
            found = {a.customer_id for a in self.shop.analytics.advocates(session)}
        hits = found & self.influencers
        precision = len(hits) / len(found) if found else 0.0
        recall = len(hits) / len(self.influencers) if self.influencers else 0.0
        print(f"advocates: {len(found)} candidates, {len(self.influencers)} planted: ", end="")
        print(f"precision {precision:.2f}, recall {recall:.2f}")
        return precision, recall


def simulated_shop(root: Path, customers: int, days: int, seed: int) -> SimulatedShop:
    """Simulate ``customers`` over ``days`` into a fresh store under ``root`` (close it after).

    The clock is a day past the simulation's end, so "today" is just after the data.
    """
    settings = Settings(data_dir=root, log_json=False, sqlite_synchronous="OFF")
    end = SimulationConfig.start + timedelta(days=days + 1)
    shop = Shopkeeper.open(settings, clock=FixedClock(datetime.combine(end, time(), tzinfo=UTC)))
    shop.migrate()
    simulate_to_store(shop, customers, days, seed, root / "truth")
    lines = (root / "truth" / "customers.jsonl").read_text().splitlines()
    influencers: set[str] = set()
    value: dict[str, float] = {}
    with shop.db.sessions() as session:
        for row in map(json.loads, lines):
            customer = find_customer(session, row["user_id"])
            if customer is None:
                continue
            value[customer.id] = row["expected_future_value"]
            if row["influencer"]:
                influencers.add(customer.id)
    return SimulatedShop(shop, influencers, value)
