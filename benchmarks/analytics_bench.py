"""Customer summary + BG/NBD + Gamma-Gamma (+ CLV, RFM) on DuckDB, next to lifetimes.

Run: ``.venv/bin/python -m benchmarks.analytics_bench [--quick]`` from the repo root, with
``../shared/data`` beside it. Prints a Markdown table.

Every case runs in its own child process so "peak RSS" is that case's alone (it includes the
input table the child built: for the synthetic cases the generated Arrow table, for lifetimes
the pandas frame). Data generation and CSV parsing are not timed. ``lifetimes`` is timed on the
1M-transaction synthetic table and the 10M figure is extrapolated linearly (its summary and
fits are O(rows) / O(customers) in pandas/autograd) — marked "≈" in the table.
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


def timed(stages: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = fn()
    stages[name] = time.perf_counter() - start
    return result


def run_ours(table: pa.Table, end: date) -> dict[str, float]:
    from shopkeeper.analytics import clv, engine, rfm, summary
    from shopkeeper.settings import Settings

    stages: dict[str, float] = {}
    con = engine.connect(Settings())
    transactions = timed(stages, "load", lambda: con.create_table("tx", table))
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
    return stages


def run_lifetimes(frame: pd.DataFrame, end: date) -> dict[str, float]:
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

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
    r = s[(s.frequency > 0) & (s.monetary_value > 0)]
    gg = timed(stages, "gamma_gamma", lambda: GammaGammaFitter().fit(r.frequency, r.monetary_value))
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
                "peak_mb": peak_mb,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--quick", action="store_true", help="100k customers instead of 1M")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    big = 100_000 if args.quick else 1_000_000
    cases = ["cdnow:ours", "cdnow:lifetimes", f"{big}:ours", f"{big // 10}:lifetimes"]
    results = []
    for case in cases:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.analytics_bench", "--child", case],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"done {case}", file=sys.stderr)
    print(table_markdown(results, big))


def table_markdown(results: list[dict[str, Any]], big: int) -> str:
    lines = [
        "| data | engine | customers | rows | summary s | BG/NBD s | GG s | CLV s | RFM s "
        "| summary+fits s | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for res in results:
        data, impl = res["case"].split(":")
        st = res["stages"]
        core = st["summary"] + st["bgnbd"] + st["gamma_gamma"] + st.get("load", 0.0)
        name = "CDNOW master" if data == "cdnow" else f"synthetic {int(data):,} customers"
        engine = "DuckDB (Ibis) + shopkeeper" if impl == "ours" else "lifetimes 0.11.3"
        summary_s = f"{st['summary']:.2f}" + (f" (+{st['load']:.2f} load)" if "load" in st else "")
        lines.append(
            f"| {name} | {engine} | {res['customers']:,} | {res['rows']:,} | {summary_s} "
            f"| {st['bgnbd']:.2f} | {st['gamma_gamma']:.2f} | {st['clv']:.2f} "
            f"| {st.get('rfm', float('nan')):.2f} | {core:.2f} | {res['peak_mb']:.0f} |"
        )
        if impl == "lifetimes" and data != "cdnow":
            factor = big / int(data)
            lines.append(
                f"| synthetic {big:,} customers | lifetimes (≈ ×{factor:.0f} extrapolated) "
                f"| ≈{big:,} | ≈{res['rows'] * factor:,.0f} | ≈{st['summary'] * factor:.1f} "
                f"| ≈{st['bgnbd'] * factor:.1f} | ≈{st['gamma_gamma'] * factor:.1f} "
                f"| ≈{st['clv'] * factor:.1f} | – | ≈{core * factor:.1f} | – |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
