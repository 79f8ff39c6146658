"""Offline evaluation of the recommender core on UCI Online Retail (issue 6).

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.recsys_eval`` from the repo root,
with ``../shared/data`` beside it. Prints Markdown tables (about 80 s on two busy cores).

Protocol. Cleaning as the data set's README says: cancellations (``C`` invoices), non-positive
quantities, non-product codes (:func:`shopkeeper.catalog.codes.is_non_product`) and rows
without a customer are dropped. Train before 2011-09-01, test after; test users are customers
with purchases on both sides; the truth is the set of distinct catalogue items they bought
after the cut. Full-catalogue top-10, no sampled negatives. Each model's key hyper-parameter is
tuned on a validation cut inside the train period (train before 2011-07-01, validate on July
and August) with the same budget of four settings, picked by NDCG@10 on the all-purchases task;
the winner is refitted on the whole train period. "Fit" is that final fit's wall time.

The ``for_you`` blend's content term reads each product's description (``Description``) as its
title — the most frequent one among the lines *before* the cut it is fitted for, so nothing
of the test (or validation) period reaches it.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pandas as pd

from shopkeeper.catalog.codes import is_non_product
from shopkeeper.recsys.content import ItemContent
from shopkeeper.recsys.evaluate import Evaluation, evaluate
from shopkeeper.recsys.split import EventLog, temporal_split
from shopkeeper.recsys.tuning import families, tune

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online-retail"
CUT = pd.Timestamp("2011-09-01")
VALIDATION_CUT = pd.Timestamp("2011-07-01")
K = 10
SEED = 42


def load_lines(path: Path = DATA / "online_retail.csv.gz") -> pd.DataFrame:
    """Purchase lines of identified customers, real products only, with ``seconds``."""
    df = pd.read_csv(
        path,
        dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str, "Description": str},
        usecols=["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "CustomerID"],
    )
    df = df[df["CustomerID"].notna() & (df["Quantity"] > 0)]
    df = df[~df["InvoiceNo"].str.startswith("C")]
    codes = df["StockCode"].unique()
    product = {code: not is_non_product(code) for code in codes}
    df = df[df["StockCode"].map(product)].copy()
    stamps = pd.to_datetime(df["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")
    df["seconds"] = stamps.astype("int64") / 1e9
    return df


def events_of(lines: pd.DataFrame) -> EventLog:
    return EventLog.from_arrays(
        lines["CustomerID"].to_numpy(),
        lines["StockCode"].to_numpy(),
        lines["seconds"].to_numpy(),
        lines["InvoiceNo"].to_numpy(),
    )


def load_events(path: Path = DATA / "online_retail.csv.gz") -> EventLog:
    """Purchase lines of identified customers, real products only."""
    return events_of(load_lines(path))


def titles_before(lines: pd.DataFrame, cut: float) -> Mapping[str, ItemContent]:
    """Each product's most frequent description among the lines before ``cut``."""
    past = lines[(lines["seconds"] < cut) & lines["Description"].notna()]
    counts = past.groupby(["StockCode", "Description"]).size().reset_index(name="n")
    best = counts.sort_values(["n", "Description"], ascending=[False, True])
    best = best.drop_duplicates("StockCode")
    return {
        str(code): ItemContent(title=str(title))
        for code, title in zip(best["StockCode"], best["Description"], strict=True)
    }


def ts(when: pd.Timestamp) -> float:
    return float(when.value) / 1e9


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "online_retail.csv.gz")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    lines = load_lines(args.data)
    events = events_of(lines)
    split = temporal_split(events, ts(CUT))
    validation = temporal_split(events.before(ts(CUT)), ts(VALIDATION_CUT))
    print(
        f"Online Retail: {events.users.size:,} purchase lines; train {split.train.shape[0]:,} "
        f"customers × {split.train.shape[1]:,} products ({split.train.matrix.nnz:,} pairs); "
        f"{split.test_users.size:,} test customers; {split.unknown_item_share:.1%} of post-cut "
        f"(customer, product) pairs are products first sold after the cut (not rankable); "
        f"loaded in {time.perf_counter() - started:.1f} s.\n"
    )
    tuned: dict[str, Any] = {}
    rows: list[tuple[str, Any, Evaluation]] = []
    n_items = split.train.shape[1]
    tuning = families(
        lambda: float(tuned["EASE"]),
        SEED,
        catalogue=titles_before(lines, ts(VALIDATION_CUT)),
        n_items=n_items,
    )
    final = families(
        lambda: float(tuned["EASE"]), SEED, catalogue=titles_before(lines, ts(CUT)), n_items=n_items
    )
    for candidate, refit in zip(tuning, final, strict=True):
        best, scores = tune(candidate, validation, K)
        tuned[candidate.name] = best
        result = evaluate(refit.build(best), split, K)
        rows.append((candidate.name, best, result))
        tried = ", ".join(f"{s}: {v:.4f}" for s, v in scores.items())
        print(f"- tuned {candidate.name}: {best} (validation NDCG@10 — {tried})")
    print()
    report(rows)


def report(rows: list[tuple[str, Any, Evaluation]]) -> None:
    for task, title in (("all", "all purchases"), ("new", "items new to the customer")):
        print(f"### Task: {title} (k = {K})\n")
        print(
            "| model | setting | NDCG@10 | Recall@10 | MAP@10 | HitRate@10 | coverage "
            "| novelty (bits) | ARP | fit s |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, setting, result in rows:
            t = result.tasks[task]
            print(
                f"| {name} | {setting} | {t.ndcg:.4f} | {t.recall:.4f} | {t.map:.4f} "
                f"| {t.hit_rate:.4f} | {t.coverage:.3f} | {_cell(t.novelty, 2)} "
                f"| {_cell(t.popularity_bias, 4)} | {result.fit_seconds:.2f} |"
            )
        users = rows[0][2].tasks[task].users
        print(f"\n{users:,} test customers with something to find.\n")
        groups = list(rows[0][2].tasks[task].by_tenure)
        print(
            "| NDCG@10 by training baskets | "
            + " | ".join(f"{g} (n={rows[0][2].tasks[task].by_tenure[g][0]})" for g in groups)
            + " |"
        )
        print("|---|" + "---:|" * len(groups))
        for name, _, result in rows:
            cells = " | ".join(f"{result.tasks[task].by_tenure[g][1]:.4f}" for g in groups)
            print(f"| {name} | {cells} |")
        print()
    blend = next(r for r in rows if r[0].startswith("blend"))[2].tasks["all"].ndcg
    peers = [(r[0], r[2].tasks["all"].ndcg) for r in rows if not r[0].startswith("blend")]
    best_name, best = max(peers, key=lambda p: p[1])
    print(
        f"Blend / best single model ({best_name}) on all purchases, NDCG@10: "
        f"{blend:.4f} / {best:.4f} = {blend / best:.3f}× (target ≥ 1.05×)."
    )


def _cell(value: float, digits: int) -> str:
    """A number, or a dash where the model recommended nothing (buy-again on new items)."""
    return "—" if np.isnan(value) else f"{value:.{digits}f}"


if __name__ == "__main__":
    main()
