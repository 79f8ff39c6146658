"""Customer summary + BG/NBD + Gamma-Gamma (+ CLV, RFM) on DuckDB, next to lifetimes.

Run: ``.venv/bin/python -m benchmarks.analytics_bench [--quick]`` from the repo root, with
``../shared/data`` beside it. Prints a Markdown table.

Every case runs in its own child process so "peak RSS" is that case's alone (it includes the
input table the child built: for the synthetic cases the generated Arrow table, for lifetimes
the pandas frame). Data generation and CSV parsing are not timed. Each stage records wall time
and the process' CPU time (user + system, all threads): the machine is shared, and CPU time is
what a loaded machine does not inflate. ``lifetimes`` runs on the same synthetic table as ours
in the same invocation; a case that exceeds ``--timeout`` seconds is killed and reported so.

``online-retail:ours`` is the whole analytics pass on UCI Online Retail (orders = invoices of
known customers, cancellations dropped): RFM, summary + BG/NBD + Gamma-Gamma + CLV, and the
monthly KPI table over orders.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CDNOW_END = date(1998, 6, 30)
SYNTHETIC_START = np.datetime64("2024-01-01T00:00:00", "s")
SYNTHETIC_END = date(2025, 12, 31)


def cdnow_master() -> pd.DataFrame:
    raw = pd.read_csv(SHARED / "cdnow" / "cdnow_master.csv.gz", dtype=str)
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["dollar_value"].astype(float),
        }
    )


def synthetic(customers: int, seed: int = 1) -> pa.Table:
    """A shop drawn from the BG/NBD process itself, about 10 orders per customer.

    First orders fall in year one; repeat orders arrive as a Poisson process (rate ~ Gamma)
    until the end of year two, and after each one the customer drops out with probability
    p ~ Beta — so both fitters see data their model can describe and converge.
    """
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 365, customers)
    rate_per_day = rng.gamma(3.0, 1 / 20.0, customers) / 7
    dropout = rng.beta(1.0, 30.0, customers)
    would_buy = rng.poisson(rate_per_day * (730 - first))
    survives = rng.geometric(dropout)  # repeat orders made before dropping out
    owner = np.repeat(np.arange(customers, dtype=np.int64), would_buy)
    day = first[owner] + rng.random(owner.size) * (730 - first[owner])
    order = np.lexsort((day, owner))
    owner, day = owner[order], day[order]
    starts = np.concatenate([[0], np.cumsum(would_buy)[:-1]])
    rank = np.arange(owner.size) - np.repeat(starts, would_buy)
    keep = rank < survives[owner]
    owner = np.concatenate([np.arange(customers, dtype=np.int64), owner[keep]])
    day = np.concatenate([first + rng.random(customers) * 0.99, day[keep]])
    seconds = (day * 86_400).astype(np.int64)
    return pa.table(
        {
            "customer_id": owner,
            "timestamp": SYNTHETIC_START + seconds.astype("timedelta64[s]"),
            "amount": np.round(rng.lognormal(3.5, 0.6, owner.size), 2),
        }
    )


GG_STARTED = [0.0, 0.0]
CPU: dict[str, float] = {}
"""CPU seconds per stage of the current case (the wall times go to ``stages``)."""


def timed(stages: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    start, cpu = time.perf_counter(), _cpu()
    result = fn()
    stages[name] = time.perf_counter() - start
    CPU[name] = _cpu() - cpu
    return result


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def online_retail() -> tuple[pa.Table, pa.Table, date]:
    """Invoices of known customers as the analytics ``orders`` table, plus empty events."""
    from shopkeeper.analytics import repository

    raw = pd.read_csv(
        SHARED / "online-retail" / "online_retail.csv.gz",
        dtype={"InvoiceNo": str, "CustomerID": str, "StockCode": str},
    )
    raw = raw[raw.CustomerID.notna() & ~raw.InvoiceNo.str.startswith("C")]
    raw = raw.assign(value=raw.Quantity * raw.UnitPrice)
    orders = raw.groupby("InvoiceNo", as_index=False).agg(
        customer_id=("CustomerID", "first"),
        timestamp=("InvoiceDate", "first"),
        amount=("value", "sum"),
        items=("Quantity", "sum"),
    )
    n = len(orders)
    table = pa.table(
        {
            "order_id": orders.InvoiceNo,
            "customer_id": orders.customer_id,
            "timestamp": pd.to_datetime(orders.timestamp).dt.tz_localize("UTC"),
            "amount": orders.amount.astype(float),
            "items": orders["items"].astype("int64"),
            "channel": ["web"] * n,
            "status": ["completed"] * n,
            "counted": [True] * n,
        },
        schema=repository.ORDERS_SCHEMA,
    )
    events = repository.EVENTS_SCHEMA.empty_table()
    last = pd.to_datetime(orders.timestamp).max().date()
    return table, events, last


def run_online_retail() -> tuple[dict[str, float], int, int]:
    from shopkeeper.analytics import clv, engine, kpis, rfm, summary
    from shopkeeper.settings import Settings

    orders_arrow, events_arrow, end = online_retail()
    stages: dict[str, float] = {}
    con = engine.connect(Settings())

    def load() -> tuple[Any, Any]:
        return (
            engine.register(con, "orders", orders_arrow),
            engine.register(con, "events", events_arrow),
        )

    orders, events = timed(stages, "load", load)

    def rfm_run() -> None:
        inputs = summary.rfm_inputs(orders, end).to_pyarrow()
        rfm.score(*(inputs[c].to_numpy() for c in ("recency_days", "frequency", "monetary_total")))

    timed(stages, "rfm", rfm_run)
    frame = timed(
        stages, "summary", lambda: summary.customer_summary(orders, end, unit_days=7).to_pyarrow()
    )
    x, tx, big_t, m = (frame[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    x = x.astype(np.float64)
    bg = timed(stages, "bgnbd", lambda: clv.fit_bgnbd(x, tx, big_t))
    repeat = (x > 0) & (m > 0)
    gg = timed(stages, "gamma_gamma", lambda: clv.fit_gamma_gamma(x[repeat], m[repeat]))
    timed(stages, "clv", lambda: clv.customer_lifetime_value(bg, gg, x, tx, big_t, m))
    timed(stages, "kpis", lambda: kpis.kpi_table(orders, events, grain="month").to_pyarrow())
    engine.close(con)
    return stages, orders_arrow.num_rows, len(frame)


def as_orders(table: pa.Table) -> pa.Table:
    """The synthetic transactions as the store's ``orders`` table (one web order of one item
    each, all counted), for the KPI stage: prepared outside the timings."""
    from shopkeeper.analytics import repository

    n = table.num_rows
    return pa.table(
        {
            "order_id": pa.array(np.arange(n).astype(str)),
            "customer_id": pa.array(table["customer_id"].to_numpy().astype(str)),
            "timestamp": table["timestamp"].cast(repository.ORDERS_SCHEMA.field("timestamp").type),
            "amount": table["amount"],
            "items": pa.array(np.ones(n, dtype=np.int64)),
            "channel": pa.array(["web"] * n),
            "status": pa.array(["completed"] * n),
            "counted": pa.array(np.ones(n, dtype=bool)),
        },
        schema=repository.ORDERS_SCHEMA,
    )


def run_ours(table: pa.Table, end: date) -> dict[str, float]:
    from shopkeeper.analytics import clv, engine, kpis, repository, rfm, summary
    from shopkeeper.settings import Settings

    orders_arrow = as_orders(table)

    stages: dict[str, float] = {}
    con = engine.connect(Settings())
    transactions = timed(stages, "load", lambda: engine.register(con, "tx", table))
    frame = timed(
        stages,
        "summary",
        lambda: summary.customer_summary(transactions, end, unit_days=7).to_pyarrow(),
    )
    x, tx, big_t, m = (frame[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    x = x.astype(np.float64)
    bg = timed(stages, "bgnbd", lambda: clv.fit_bgnbd(x, tx, big_t))
    repeat = (x > 0) & (m > 0)
    gg = timed(stages, "gamma_gamma", lambda: clv.fit_gamma_gamma(x[repeat], m[repeat]))
    timed(stages, "clv", lambda: clv.customer_lifetime_value(bg, gg, x, tx, big_t, m))

    def rfm_run() -> None:
        inputs = summary.rfm_inputs(transactions, end, window_days=365).to_pyarrow()
        rfm.score(
            inputs["recency_days"].to_numpy(),
            inputs["frequency"].to_numpy(),
            inputs["monetary_total"].to_numpy(),
        )

    timed(stages, "rfm", rfm_run)

    def kpi_run() -> None:
        orders = engine.register(con, "orders", orders_arrow)
        events = engine.register(con, "events", repository.EVENTS_SCHEMA.empty_table())
        kpis.kpi_table(orders, events, grain="month").to_pyarrow()

    timed(stages, "kpis", kpi_run)
    engine.close(con)
    return stages


def run_lifetimes(frame: pd.DataFrame, end: date) -> dict[str, float]:
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import ConvergenceError, summary_data_from_transaction_data

    warnings.simplefilter("ignore")
    stages: dict[str, float] = {}
    s = timed(
        stages,
        "summary",
        lambda: summary_data_from_transaction_data(
            frame,
            "customer_id",
            "timestamp",
            monetary_value_col="amount",
            observation_period_end=str(end),
            freq="D",
        ),
    )
    s["recency"] /= 7
    s["T"] /= 7
    bg = timed(stages, "bgnbd", lambda: BetaGeoFitter().fit(s.frequency, s.recency, s["T"]))
    GG_STARTED[:] = [time.perf_counter(), _cpu()]
    r = s[(s.frequency > 0) & (s.monetary_value > 0)]
    try:
        gg = timed(
            stages, "gamma_gamma", lambda: GammaGammaFitter().fit(r.frequency, r.monetary_value)
        )
    except ConvergenceError:
        # lifetimes refuses its own optimum when scipy reports precision loss (it does on the
        # 1M-customer table); the time spent is recorded and CLV cannot be computed.
        stages["gamma_gamma"] = time.perf_counter() - GG_STARTED[0]
        CPU["gamma_gamma"] = _cpu() - GG_STARTED[1]
        print("lifetimes Gamma-Gamma: ConvergenceError", file=sys.stderr)
        return stages
    timed(
        stages,
        "clv",
        lambda: gg.customer_lifetime_value(
            bg, s.frequency, s.recency, s["T"], s.monetary_value, time=12, freq="W"
        ),
    )
    return stages


def child(case: str) -> None:
    data, impl = case.split(":")
    if data == "online-retail":
        stages, rows, customers = run_online_retail()
    else:
        if data == "cdnow":
            frame, end = cdnow_master(), CDNOW_END
            table = pa.Table.from_pandas(frame, preserve_index=False)
        else:
            table, end = synthetic(int(data)), SYNTHETIC_END
            frame = table.to_pandas() if impl == "lifetimes" else None
        rows, customers = table.num_rows, len(pa.compute.unique(table["customer_id"]))
        stages = run_ours(table, end) if impl == "ours" else run_lifetimes(frame, end)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "case": case,
                "rows": rows,
                "customers": customers,
                "stages": stages,
                "cpu": CPU,
                "peak_mb": peak_mb,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--quick", action="store_true", help="100k customers instead of 1M")
    parser.add_argument("--only", nargs="*", help="cases to run, e.g. 1000000:ours")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per case")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    big = 100_000 if args.quick else 1_000_000
    cases = args.only or [
        "cdnow:ours",
        "cdnow:lifetimes",
        "online-retail:ours",
        f"{big}:ours",
        f"{big}:lifetimes",
    ]
    results = []
    for case in cases:
        began = time.perf_counter()
        try:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.analytics_bench", "--child", case],
                check=True,
                capture_output=True,
                text=True,
                timeout=args.timeout,
            )
        except subprocess.TimeoutExpired:
            print(f"{case}: killed after {args.timeout:.0f} s", file=sys.stderr)
            results.append({"case": case, "timeout": args.timeout})
            continue
        except subprocess.CalledProcessError as exc:
            last = (exc.stderr or "").strip().splitlines()[-1:] or ["?"]
            print(f"{case}: failed: {last[0]}", file=sys.stderr)
            results.append({"case": case, "failed": last[0]})
            continue
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"done {case} in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        print(json.dumps(results[-1]), file=sys.stderr)
    print(table_markdown(results))


STAGES = ("load", "summary", "bgnbd", "gamma_gamma", "clv", "rfm", "kpis")


def table_markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| data | engine | customers | rows | load s | summary s | BG/NBD s | GG s | CLV s "
        "| RFM s | KPIs s | total wall s | total CPU s | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for res in results:
        data, impl = res["case"].split(":")
        name = {"cdnow": "CDNOW master", "online-retail": "Online Retail"}.get(
            data, f"synthetic {int(data):,} customers" if data.isdigit() else data
        )
        engine = "DuckDB (Ibis) + shopkeeper" if impl == "ours" else "lifetimes 0.11.3"
        if "timeout" in res:
            lines.append(f"| {name} | {engine} | killed after {res['timeout']:.0f} s |")
            continue
        if "failed" in res:
            lines.append(f"| {name} | {engine} | failed: {res['failed']} |")
            continue
        st, cpu = res["stages"], res["cpu"]
        cells = " | ".join(f"{st[s]:.2f}" if s in st else "–" for s in STAGES)
        lines.append(
            f"| {name} | {engine} | {res['customers']:,} | {res['rows']:,} | {cells} "
            f"| {sum(st.values()):.2f} | {sum(cpu.values()):.2f} | {res['peak_mb']:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
