"""Issue 4's simulator acceptance, measured: advocate candidates against the planted influencers,
and the top CLV decile against the next year's revenue, beside the real shops.

Run ``.venv/bin/python -m benchmarks.simulated_truth`` from the repo root (``../shared/data``
beside it for the real shops; ``--quick`` for one small shop of each kind, ``--store-dir DIR``
to keep the stores and reuse them on the next run). Prints the README's Markdown tables.

Every shop goes through the same doors as in production: ``simulate_to_store`` (the simulator's
events through ``shop.events.ingest``) or the importers, then ``AnalyticsService``. The truth
labels are read from the simulator's truth file and only used to score: influencers for the
advocates' precision and recall, and ``expected_future_value`` for an oracle ranking. That
oracle is the simulator's expected annual value *at the end of the simulation*: it knows who has
lapsed or bought their one order by then, so it is a ceiling for the last holdout year and only
an approximation for earlier ones.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from shopkeeper.analytics import engine, repository
from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.customers.repository import find_customer
from shopkeeper.imports.service import ImportService
from shopkeeper.models import Order
from shopkeeper.ops.logging import configure_logging
from shopkeeper.settings import Settings
from shopkeeper.simulator.commands import simulate_to_store
from shopkeeper.simulator.shop import SimulationConfig

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
START = SimulationConfig.start

#: (customers, days, seed) of the shops the advocates are scored on.
ADVOCACY_SHOPS = ((500, 180, 1), (500, 180, 2), (500, 180, 3), (500, 180, 7), (1000, 365, 1))
#: Three-year shops: the top decile is scored on the 12 months after each calibration end.
CLV_SHOPS = ((1000, 1095, 1), (1000, 1095, 2))
CLV_ENDS = (12, 18, 24)  # months of history before the calibration end
#: (name, import format, file, calibration ends): the paper's 39/39-week CDNOW split and a
#: shorter one; Online Retail split in the middle and two months later.
REAL_SHOPS = (
    ("CDNOW", "cdnow", "cdnow/cdnow_master.csv.gz", ("1997-09-30", "1997-05-31")),
    ("Online Retail", "online-retail", "online-retail/online_retail.csv.gz", ("2011-06-09",)),
)


@dataclass(frozen=True)
class Truth:
    influencers: set[str]  # planted influencers the store knows (by userId), as customer ids
    value: dict[str, float]  # customer id -> the simulator's expected annual value


def open_store(root: Path, today: date) -> Shopkeeper:
    settings = Settings(
        data_dir=root, log_json=False, log_level="warning", sqlite_synchronous="OFF"
    )
    clock = FixedClock(datetime.combine(today, datetime.min.time(), tzinfo=UTC))
    shop = Shopkeeper.open(settings, clock=clock)
    shop.migrate()
    return shop


def simulated(root: Path, customers: int, days: int, seed: int) -> tuple[Shopkeeper, Truth]:
    """The shop in ``root``, simulated into it unless a previous run left it there."""
    shop = open_store(root, START + timedelta(days=days + 1))
    if not (root / "truth" / "customers.jsonl").exists():
        began = time.process_time()
        simulate_to_store(shop, customers, days, seed, root / "truth")
        print(f"  simulated {root.name} in {time.process_time() - began:.0f} CPU s", flush=True)
    truth = Truth(set(), {})
    with shop.db.sessions() as session:
        for line in (root / "truth" / "customers.jsonl").read_text().splitlines():
            row = json.loads(line)
            customer = find_customer(session, row["user_id"])
            if customer is not None:
                truth.value[customer.id] = row["expected_future_value"]
                if row["influencer"]:
                    truth.influencers.add(customer.id)
    return shop, truth


def imported(root: Path, format_name: str, path: Path) -> Shopkeeper:
    """The file imported into ``root``, unless a previous run left it there."""
    shop = open_store(root, date(2030, 1, 1))
    with shop.db.sessions() as session:
        empty = session.scalar(select(func.count()).select_from(Order)) == 0
    if empty:
        began = time.process_time()
        ImportService(shop).run(format_name, [path], rejects_path=root / "rejects.csv")
        print(f"  imported {path.name} in {time.process_time() - began:.0f} CPU s", flush=True)
    return shop


def advocacy_row(shop: Shopkeeper, truth: Truth, label: str) -> str:
    with shop.db.sessions() as session:
        found = {a.customer_id for a in shop.analytics.advocates(session)}
    hits = found & truth.influencers
    precision = len(hits) / len(found) if found else 0.0
    recall = len(hits) / len(truth.influencers) if truth.influencers else 0.0
    return (
        f"| {label} | {len(found)} | {precision:.2f} | {recall:.2f} "
        f"({len(hits)} of {len(truth.influencers)}) |"
    )


def orders_frame(shop: Shopkeeper) -> pd.DataFrame:
    """Counted orders of known customers, as the analytics see them: customer_id, day, amount."""
    con = engine.connect(shop.settings)
    try:
        with shop.db.sessions() as session:
            repository.load(session.connection(), con, tables=("orders",))
        orders = con.table("orders")
        orders = orders.filter(orders.counted & orders.customer_id.notnull())
        frame = orders.select("customer_id", "timestamp", "amount").to_pandas()
    finally:
        engine.close(con)
    frame["day"] = pd.to_datetime(frame.timestamp).dt.date
    return frame


def shape_row(shop: Shopkeeper, label: str) -> str:
    """How concentrated and how heterogeneous the shop is."""
    frame = orders_frame(shop)
    spend = frame.groupby("customer_id").amount.sum().sort_values(ascending=False)
    top = -(-len(spend) // 10)
    days = frame.drop_duplicates(["customer_id", "day"]).groupby("customer_id").size()
    with shop.db.sessions() as session:
        r = shop.analytics.clv(session).bgnbd["r"]
    return (
        f"| {label} | {len(spend):,} | {spend.head(top).sum() / spend.sum():.2f} "
        f"| {days.std() / days.mean():.2f} | {r:.2f} |"
    )


def decile_row(
    shop: Shopkeeper, label: str, end: date, truth: Truth | None, holdout_end: date | None = None
) -> str:
    with shop.db.sessions() as session:
        result = shop.analytics.clv_holdout(session, end, holdout_end)
    oracle = "–"
    if truth is not None:
        frame = orders_frame(shop)
        known = sorted(set(frame[frame.day <= end].customer_id))
        future = frame[(frame.day > end) & (frame.day <= result.holdout_end)]
        revenue = future.groupby("customer_id").amount.sum().reindex(known, fill_value=0.0)
        value = np.array([truth.value.get(c, 0.0) for c in known])
        ranked = np.argsort(-value, kind="stable")[: result.top_decile_customers]
        oracle = f"{revenue.to_numpy()[ranked].sum() / revenue.sum():.3f}"
    return (
        f"| {label} | {end} | {result.horizon_months} months | {result.customers:,} "
        f"| **{result.top_decile_share:.3f}** | {result.past_spend_share:.3f} | {oracle} "
        f"| {result.hindsight_share:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small shop of each kind")
    parser.add_argument("--store-dir", type=Path, help="keep the stores here and reuse them")
    args = parser.parse_args()
    configure_logging("warning", json=False)
    advocacy_shops = ADVOCACY_SHOPS[:1] if args.quick else ADVOCACY_SHOPS
    clv_shops = ((500, 730, 7),) if args.quick else CLV_SHOPS
    with TemporaryDirectory() as scratch:
        base = args.store_dir or Path(scratch)
        advocacy, shapes, deciles = [], [], []
        for customers, days, seed in advocacy_shops:
            label = f"{customers:,} customers, {days} days, seed {seed}"
            shop, truth = simulated(base / f"sim-{customers}-{days}-{seed}", customers, days, seed)
            advocacy.append(advocacy_row(shop, truth, label))
            shop.close()
        for customers, days, seed in clv_shops:
            label = f"simulated, {customers:,} customers, {days // 365} years, seed {seed}"
            shop, truth = simulated(base / f"sim-{customers}-{days}-{seed}", customers, days, seed)
            shapes.append(shape_row(shop, label))
            for months in CLV_ENDS:
                end = START + timedelta(days=months * 365 // 12 - 1)
                if (end - START).days + 365 < days:
                    deciles.append(decile_row(shop, label, end, truth, end + timedelta(365)))
            shop.close()
        for name, fmt, path, ends in () if args.quick else REAL_SHOPS:
            if not (SHARED / path).exists():
                print(f"  {SHARED / path} not found: {name} left out")
                continue
            shop = imported(base / f"real-{fmt}", fmt, SHARED / path)
            shapes.append(shape_row(shop, name))
            deciles.extend(decile_row(shop, name, date.fromisoformat(e), None) for e in ends)
            shop.close()
    print("\n| simulated shop | candidates | precision | recall, all planted in the store |")
    print("|---|---:|---:|---:|")
    print("\n".join(advocacy))
    print(
        "\n| shop | customers | top decile's share of all revenue | CV of purchase days "
        "per customer | BG/NBD r |"
    )
    print("|---|---:|---:|---:|---:|")
    print("\n".join(shapes))
    print(
        "\n| shop | calibration end | holdout | customers | top CLV decile "
        "| top past-spend decile | simulator's expected value | hindsight |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|")
    print("\n".join(deciles))


if __name__ == "__main__":
    main()
