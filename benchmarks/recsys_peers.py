"""Recommendations against real peers, in one harness (issue 6).

Run (``make bench-peers`` builds the peers' virtualenvs first)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.recsys_peers --dataset online-retail
    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.recsys_peers --dataset simulator

Protocol. One temporal split per data set (Online Retail: train before 2011-09-01, cleaned as
``benchmarks.recsys_eval`` says; simulator: the last quarter of the simulated year is the test
period) and one validation split cut inside the training period. Both are exported once to
Parquet (``benchmarks/peers/export.py``); every peer runs in its own virtualenv
(``benchmarks/peers/venvs/<venv>/``) from a small runner (``benchmarks/peers/*_runner.py``),
tries its four settings on the validation split, is refitted on the training period with the
setting our harness picked (best validation NDCG@10, all purchases — scored by us), and writes
top-10 lists per test user. Our models get the same four settings each
(:mod:`shopkeeper.recsys.tuning`). Every list — ours and theirs — is scored by
:func:`shopkeeper.recsys.evaluate.score`: full-catalogue ranking, two tasks (all purchases;
items new to the customer, their history excluded), tenure groups by training baskets.

Basket completion (``bought_together``): every basket after the cut with at least two known
items hides one (seeded); the rest query an item-item matrix; HitRate@10 and MRR@10. Ours is
the association rule model of the ``bought_together`` placement
(:func:`shopkeeper.recsys.baskets.association`), against raw co-counts and the peers'
``similar_items`` fitted on the same baskets × items matrix; four settings each, tuned on
baskets of the validation period.

The ``for_you`` blend's content and affinity terms read item descriptions known before each
cut: Online Retail's product descriptions (the most frequent one before the cut), the
simulator's catalogue (category, brand, price tier, title — what it loads into the store
before any event, and what ``shopkeeper train`` reads). No purchase after a cut reaches them.

Fit times: wall and CPU seconds of the final fit (the peers time their own ``fit`` call).

``--only ours`` re-runs our models and takes the peers' rows from the cache the last full run
left beside the export (``peers-cache.json``), keyed by a hash of both splits — for
iterating on our models; reported figures come from one full run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from benchmarks.peers import cache
from benchmarks.peers.export import basket_data, export_phase, read_fit, read_lists, read_similar
from benchmarks.recsys_eval import CUT, VALIDATION_CUT, events_of, load_lines, titles_before, ts
from benchmarks.stores import RESULTS
from shopkeeper.recsys.baskets import association, co_counts, complete, hit_rate_mrr
from shopkeeper.recsys.content import ItemContent
from shopkeeper.recsys.evaluate import Evaluation, evaluate, score
from shopkeeper.recsys.split import EventLog, Split, temporal_split
from shopkeeper.recsys.tuning import BASKET_SETTINGS, BUDGET, FOR_YOU, families, tune

K = 10
PEERS = Path(__file__).resolve().parent / "peers"
VENVS = PEERS / "venvs"

#: Runner script → the virtualenv it runs in.
RUNNERS = {
    "implicit_runner.py": "implicit",
    "baselines_runner.py": "implicit",
    "sar_runner.py": "recommenders",
    "lenskit_runner.py": "lenskit",
}


@dataclass(frozen=True)
class Dataset:
    """Attributes:
    describe: Item descriptions known before a cut (seconds), for the blend's content and
        affinity terms.
    """

    name: str
    events: EventLog
    cut: float
    validation_cut: float
    note: str
    describe: Callable[[float], Mapping[str, ItemContent]]


@dataclass
class Row:
    """One model's line in the report."""

    name: str
    source: str  # "ours" or the peer venv
    setting: str
    evaluation: Evaluation
    validation: dict[str, float] = field(default_factory=dict)
    #: Validation NDCG@10 of the chosen setting per task (reported, never used to choose).
    chosen: dict[str, float] = field(default_factory=dict)


@dataclass
class BasketRow:
    name: str
    source: str
    setting: str
    hit_rate: float
    mrr: float
    fit_seconds: float
    fit_cpu_seconds: float
    validation: dict[str, float] = field(default_factory=dict)


def online_retail() -> Dataset:
    lines = load_lines()
    return Dataset(
        "online-retail",
        events_of(lines),
        ts(CUT),
        ts(VALIDATION_CUT),
        "UCI Online Retail, cut 2011-09-01, validation cut 2011-07-01",
        lambda cut: titles_before(lines, cut),
    )


def simulated(customers: int, days: int, seed: int) -> Dataset:
    """Purchases of a simulated shop (web and store orders of identified customers)."""
    from shopkeeper.simulator.shop import ShopSimulation, SimulationConfig

    config = SimulationConfig(customers=customers, days=days, seed=seed)
    users: list[str] = []
    items: list[str] = []
    stamps: list[float] = []
    baskets: list[str] = []
    simulation = ShopSimulation(config)
    catalogue = {
        str(p["sku"]): ItemContent(
            category=p.get("category_path"),
            brand=p.get("brand"),
            price_tier=p.get("price_tier"),
            attributes={str(k): str(v) for k, v in (p.get("attributes") or {}).items()},
            title=p.get("title"),
        )
        for p in simulation.products
    }
    for event in simulation.events():
        if event.get("event") != "Order Completed" or not event.get("userId"):
            continue
        props = event["properties"]
        when = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
        for line in props.get("products", []):
            users.append(str(event["userId"]))
            items.append(str(line.get("sku") or line.get("product_id")))
            stamps.append(when)
            baskets.append(str(props["order_id"]))
    start = datetime.combine(config.start, datetime.min.time(), UTC)
    cut = start + timedelta(days=round(days * 0.75))
    validation_cut = start + timedelta(days=round(days * 0.58))
    return Dataset(
        "simulator",
        EventLog.from_arrays(users, items, stamps, baskets),
        cut.timestamp(),
        validation_cut.timestamp(),
        f"simulator: {customers:,} customers, {days} days, seed {seed}; cut at day "
        f"{round(days * 0.75)}, validation cut at day {round(days * 0.58)}",
        lambda _cut: catalogue,
    )


def run_ours(dataset: Dataset, split: Split, validation: Split) -> list[Row]:
    """Tune each family on the validation split, refit the best on the training period."""
    tuned: dict[str, Any] = {}
    rows = []
    n_items = split.train.shape[1]

    def ease() -> float:
        return float(tuned["EASE"])

    tuning = families(ease, catalogue=dataset.describe(dataset.validation_cut), n_items=n_items)
    final = families(ease, catalogue=dataset.describe(dataset.cut), n_items=n_items)
    for family, refit in zip(tuning, final, strict=True):
        best, scores = tune(family, validation, K)
        tuned[family.name] = best
        chosen = evaluate(family.build(best), validation, K).tasks
        result = evaluate(refit.build(best), split, K)
        rows.append(
            Row(
                family.name,
                "ours",
                str(best),
                result,
                {str(s): v for s, v in scores.items()},
                {task: t.ndcg for task, t in chosen.items()},
            )
        )
        print(f"  ours {family.name}: {best} (fit {result.fit_seconds:.2f} s)", flush=True)
    return rows


def _run(runner: str, *args: str) -> None:
    python = VENVS / RUNNERS[runner] / "bin" / "python"
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    completed = subprocess.run(
        [str(python), str(PEERS / runner), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{runner} {' '.join(args)} failed:\n{completed.stderr[-3000:]}")


def available_runners(only: Sequence[str] | None) -> dict[str, dict[str, list[str]]]:
    """Runner → ``{"lists": [models], "baskets": [models]}`` where its virtualenv exists."""
    out: dict[str, dict[str, list[str]]] = {}
    for runner, venv in RUNNERS.items():
        if only and runner.removesuffix("_runner.py") not in only:
            continue
        python = VENVS / venv / "bin" / "python"
        if not python.exists():
            print(f"  skipped {runner}: no virtualenv at {python.parent.parent} (make bench-peers)")
            continue
        listed = subprocess.run(
            [str(python), str(PEERS / runner), "--list"],
            capture_output=True,
            text=True,
            check=False,
        )
        if listed.returncode != 0:
            print(f"  skipped {runner}: {listed.stderr.strip().splitlines()[-1:]}")
            continue
        listing = json.loads(listed.stdout)
        out[runner] = {task: list(listing[task]) for task in ("lists", "baskets")}
    return out


def run_peer(runner: str, model: str, work: Path, split: Split, validation: Split) -> Row:
    """Tune on the validation export (our scoring), refit on train with the best setting."""
    out = work / "out"
    _run(runner, str(work / "validation"), str(out / "validation"), "--model", model)
    scores: dict[str, float] = {}
    for index in range(BUDGET):
        directory = out / "validation" / model / str(index)
        if not directory.exists():
            break
        lists = read_lists(directory, validation.test_users.size, K)
        scores[read_fit(directory)["setting"]] = score({"all": lists["all"]}, validation)[
            "all"
        ].ndcg
    best = int(np.nanargmax(list(scores.values())))
    lists = read_lists(out / "validation" / model / str(best), validation.test_users.size, K)
    chosen = {task: t.ndcg for task, t in score(lists, validation).items()}
    _run(runner, str(work / "test"), str(out / "test"), "--model", model, "--setting", str(best))
    directory = out / "test" / model / str(best)
    fit = read_fit(directory)
    started = time.perf_counter()
    results = score(read_lists(directory, split.test_users.size, K), split)
    evaluation = Evaluation(
        fit["fit_seconds"], time.perf_counter() - started, results, fit["fit_cpu_seconds"]
    )
    print(f"  peer {model}: {fit['setting']} (fit {fit['fit_seconds']:.2f} s)", flush=True)
    return Row(model, RUNNERS[runner], fit["setting"], evaluation, scores, chosen)


def run_baskets(
    dataset: Dataset,
    split: Split,
    validation: Split,
    work: Path,
    runners: dict[str, dict[str, list[str]]],
    *,
    ours_too: bool = True,
) -> list[BasketRow]:
    """Basket completion: our association rules (unless ``ours_too`` is false), then the
    ``runners``' item-item models."""
    before = dataset.events.before(dataset.cut)
    val_train, val_test = basket_data(before, validation, dataset.validation_cut)
    train, test = basket_data(dataset.events, split, dataset.cut)
    print(f"  basket tests: {len(test):,} (validation {len(val_test):,})", flush=True)
    rows: list[BasketRow] = []

    def ours(name: str, settings: Sequence[Any], build: Callable[[Any, Any], Any]) -> None:
        scores = {
            str(s): hit_rate_mrr(
                complete(build(val_train, s), val_test.queries, K), val_test.hidden
            )[0]
            for s in settings
        }
        best = settings[int(np.nanargmax(list(scores.values())))]
        started, cpu = time.perf_counter(), time.process_time()
        similarity = build(train, best)
        wall, cpu_used = time.perf_counter() - started, time.process_time() - cpu
        hit, mrr = hit_rate_mrr(complete(similarity, test.queries, K), test.hidden)
        rows.append(BasketRow(name, "ours", str(best), hit, mrr, wall, cpu_used, scores))

    if ours_too:
        ours(
            "bought_together (association, cosine)",
            list(BASKET_SETTINGS),
            lambda b, s: association(b, min_support=s[0], neighbours=s[1]),
        )
        # What bought_together scored before (confidence P(j | i)), tuned the same way.
        ours(
            "association, confidence (before)",
            list(BASKET_SETTINGS),
            lambda b, s: association(b, min_support=s[0], neighbours=s[1], measure="confidence"),
        )
        ours("raw co-counts", [None], lambda b, _s: co_counts(b))
    for runner, models in runners.items():
        for model in models["baskets"]:
            out = work / "out-baskets"
            _run(
                runner,
                str(work / "validation"),
                str(out / "validation"),
                "--model",
                model,
                "--task",
                "baskets",
            )
            scores = {}
            for index in range(BUDGET):
                directory = out / "validation" / model / str(index)
                if not directory.exists():
                    break
                sim = read_similar(directory, validation.train.shape[1])
                hit = hit_rate_mrr(complete(sim, val_test.queries, K), val_test.hidden)[0]
                scores[read_fit(directory)["setting"]] = hit
            best = int(np.nanargmax(list(scores.values())))
            _run(
                runner, str(work / "test"), str(out / "test"), "--model", model,
                "--setting", str(best), "--task", "baskets",
            )  # fmt: skip
            directory = out / "test" / model / str(best)
            fit = read_fit(directory)
            sim = read_similar(directory, split.train.shape[1])
            hit, mrr = hit_rate_mrr(complete(sim, test.queries, K), test.hidden)
            rows.append(
                BasketRow(
                    model,
                    RUNNERS[runner],
                    fit["setting"],
                    hit,
                    mrr,
                    fit["fit_seconds"],
                    fit["fit_cpu_seconds"],
                    scores,
                )
            )
            print(f"  basket peer {model}: {fit['setting']}", flush=True)
    return rows


def report(dataset: Dataset, split: Split, rows: list[Row], baskets: list[BasketRow]) -> str:
    lines = [
        f"**{dataset.note}.** {split.train.shape[0]:,} training customers × "
        f"{split.train.shape[1]:,} products ({split.train.matrix.nnz:,} pairs); "
        f"{split.test_users.size:,} test customers; {split.unknown_item_share:.1%} of "
        "post-cut (customer, product) pairs name products first sold after the cut.",
        "",
    ]
    for task, title in (("all", "all purchases"), ("new", "items new to the customer")):
        lines += [
            f"Task: {title} (k = {K}; {rows[0].evaluation.tasks[task].users:,} customers)", "",
            "| model | by | setting | NDCG@10 | Recall@10 | MAP@10 | HitRate@10 | coverage "
            "| novelty (bits) | ARP | fit s | fit CPU s |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]  # fmt: skip
        for row in rows:
            t = row.evaluation.tasks[task]
            name = f"**{row.name}**" if row.name == FOR_YOU else row.name
            lines.append(
                f"| {name} | {row.source} | {row.setting} | {t.ndcg:.4f} | {t.recall:.4f} "
                f"| {t.map:.4f} | {t.hit_rate:.4f} | {t.coverage:.3f} | {_cell(t.novelty, 2)} "
                f"| {_cell(t.popularity_bias, 4)} | {row.evaluation.fit_seconds:.2f} "
                f"| {row.evaluation.fit_cpu_seconds:.2f} |"
            )
        groups = list(rows[0].evaluation.tasks[task].by_tenure)
        lines += [
            "",
            "| NDCG@10 by training baskets | "
            + " | ".join(
                f"{g} (n={rows[0].evaluation.tasks[task].by_tenure[g][0]:,})" for g in groups
            )
            + " |",
            "|---|" + "---:|" * len(groups),
        ]
        for row in rows:
            by = row.evaluation.tasks[task].by_tenure
            lines.append(f"| {row.name} | " + " | ".join(f"{by[g][1]:.4f}" for g in groups) + " |")
        mine = [r for r in rows if r.name == FOR_YOU]
        peers = [r for r in rows if r.source != "ours"]
        if mine and peers:
            ours = mine[0].evaluation.tasks[task].ndcg
            best = max(peers, key=lambda r: r.evaluation.tasks[task].ndcg)
            value = best.evaluation.tasks[task].ndcg
            lines += ["", f"for_you / best peer ({best.name}): {ours:.4f} / {value:.4f} = "
                      f"**{ours / value:.3f}×**"]  # fmt: skip
            known = [r for r in peers if task in r.chosen]
            if task in mine[0].chosen and known:
                top = max(known, key=lambda r: r.chosen[task])
                mine_v, top_v = mine[0].chosen[task], top.chosen[task]
                lines.append(
                    f"(validation cut, chosen settings: {mine_v:.4f} / {top_v:.4f} "
                    f"({top.name}) = {mine_v / top_v:.3f}×)"
                )
            lines.append("")
    lines += [
        f"Basket completion (bought_together; hide one item of each test basket with ≥ 2 known "
        f"items; {K} slots)", "",
        "| model | by | setting | HitRate@10 | MRR@10 | fit s | fit CPU s |",
        "|---|---|---|---:|---:|---:|---:|",
    ]  # fmt: skip
    for b in baskets:
        lines.append(
            f"| {b.name} | {b.source} | {b.setting} | {b.hit_rate:.4f} | {b.mrr:.4f} "
            f"| {b.fit_seconds:.2f} | {b.fit_cpu_seconds:.2f} |"
        )
    return "\n".join(lines)


def _cell(value: float, digits: int) -> str:
    return "—" if np.isnan(value) else f"{value:.{digits}f}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--dataset", choices=("online-retail", "simulator"), default="online-retail"
    )
    parser.add_argument("--customers", type=int, default=4000, help="simulator customers")
    parser.add_argument("--days", type=int, default=365, help="simulator days")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed")
    parser.add_argument(
        "--peers", nargs="*", default=None, help="only these runners (e.g. implicit sar)"
    )
    parser.add_argument("--work", type=Path, default=None, help="export/answers directory")
    parser.add_argument("--no-ours", action="store_true", help="peers only (a quicker check)")
    parser.add_argument(
        "--only",
        choices=("ours",),
        default=None,
        help="ours: our models only, the peers' rows from the last full run's cache",
    )
    args = parser.parse_args(argv)
    only_ours = args.only == "ours"

    started, cpu = time.perf_counter(), time.process_time()
    load = os.getloadavg()
    dataset = (
        online_retail()
        if args.dataset == "online-retail"
        else simulated(args.customers, args.days, args.seed)
    )
    split = temporal_split(dataset.events, dataset.cut)
    validation = temporal_split(dataset.events.before(dataset.cut), dataset.validation_cut)
    work = args.work or RESULTS / "peers" / dataset.name
    export_phase(dataset.events, split, dataset.cut, work / "test", K)
    export_phase(
        dataset.events.before(dataset.cut),
        validation,
        dataset.validation_cut,
        work / "validation",
        K,
    )
    print(f"{dataset.note}: exported to {work} ({time.perf_counter() - started:.1f} s)", flush=True)

    rows = [] if args.no_ours else run_ours(dataset, split, validation)
    runners = {} if only_ours else available_runners(args.peers)
    peer_rows = [
        run_peer(runner, model, work, split, validation)
        for runner, models in runners.items()
        for model in models["lists"]
    ]
    baskets = run_baskets(dataset, split, validation, work, runners, ours_too=not args.no_ours)
    key = cache.split_key(split, validation)
    if only_ours:
        peer_rows, peer_baskets = cache.read(work, key, Row, BasketRow)
        baskets += peer_baskets
        print(f"  peers: {len(peer_rows)} rows from {work / cache.CACHE}", flush=True)
    elif peer_rows:
        theirs = [b for b in baskets if b.source != "ours"]
        print(f"  peer cache: {cache.write(work, key, peer_rows, theirs)}", flush=True)
    rows += peer_rows
    text = report(dataset, split, rows, baskets)
    elapsed = time.perf_counter() - started
    footer = (
        f"\nWhole run {elapsed:.0f} s wall, {time.process_time() - cpu:.0f} s CPU in the harness "
        f"(peers' CPU is in their fit columns); load average before {load[0]:.1f}, after "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores shared with other engineers."
    )
    if only_ours:
        footer += " Peers' rows: the cached full run on the same split."
    print("\n" + text + footer)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"recsys-peers-{dataset.name}" + ("-ours-only" if only_ours else "")
    (RESULTS / f"{stem}.md").write_text(text + footer + "\n")
    (RESULTS / f"{stem}.json").write_text(
        json.dumps(
            {
                "dataset": dataset.note,
                "command": "python -m benchmarks.recsys_peers " + " ".join(sys.argv[1:]),
                "models": [
                    {
                        "name": r.name,
                        "by": r.source,
                        "setting": r.setting,
                        "validation_ndcg": r.validation,
                        "validation_chosen_ndcg": r.chosen,
                        "fit_seconds": r.evaluation.fit_seconds,
                        "fit_cpu_seconds": r.evaluation.fit_cpu_seconds,
                        "tasks": {t: vars(v) for t, v in r.evaluation.tasks.items()},
                    }
                    for r in rows
                ],
                "baskets": [vars(b) for b in baskets],
                "seconds": elapsed,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
