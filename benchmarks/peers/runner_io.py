"""What every peer runner shares: read an exported split, write top-k lists and neighbours.

Runs inside a peer's own virtualenv (``benchmarks/peers/venvs/<peer>/``), so it imports only
numpy, pandas and pyarrow — never ``shopkeeper``. A phase directory (written by
``benchmarks/peers/export.py``) holds:

* ``events.parquet`` — training purchase lines: ``user``, ``item`` (row/column indices of our
  split), ``timestamp`` (seconds), ``basket`` (basket index);
* ``users.parquet`` — ``user``: the test users' rows, in the order lists must come back;
* ``meta.json`` — ``n_users``, ``n_items``, ``now`` (the cut, seconds), ``k``.

A runner is ``python <peer>_runner.py PHASE_DIR OUT_DIR --model NAME [--setting I]``; with no
``--setting`` it runs every setting of the model (the validation phase). For each setting it
writes ``OUT_DIR/<model>/<i>/`` with ``all.parquet`` and ``new.parquet`` (``position``,
``rank``, ``item``: position in ``users.parquet``; ``new`` excludes the user's training
items) or, for ``--task baskets``, ``similar.parquet`` (``item``, ``rank``, ``neighbour``,
``score``; the model fitted on the basket × item matrix), plus ``fit.json`` with the setting
and the fit's wall and CPU seconds. Our harness scores those files with our own metrics.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

#: Neighbours written per item for the basket task.
NEIGHBOURS = 100


@dataclass
class Phase:
    """An exported split as a runner sees it."""

    events: pd.DataFrame
    users: np.ndarray
    n_users: int
    n_items: int
    now: float
    k: int

    def matrix(self, rows: str = "user") -> sp.csr_matrix:
        """Users (or baskets) × items, each cell the number of distinct baskets holding it."""
        cells = self.events.drop_duplicates(["user", "item", "basket"])
        n_rows = self.n_users if rows == "user" else int(cells["basket"].max()) + 1
        out = sp.csr_matrix(
            (np.ones(len(cells)), (cells[rows].to_numpy(), cells["item"].to_numpy())),
            shape=(n_rows, self.n_items),
        )
        out.sum_duplicates()
        if rows != "user":
            out.data[:] = 1.0
        return out


def read_phase(path: Path) -> Phase:
    meta = json.loads((path / "meta.json").read_text())
    return Phase(
        events=pd.read_parquet(path / "events.parquet"),
        users=pd.read_parquet(path / "users.parquet")["user"].to_numpy(),
        n_users=int(meta["n_users"]),
        n_items=int(meta["n_items"]),
        now=float(meta["now"]),
        k=int(meta["k"]),
    )


def write_lists(path: Path, lists: np.ndarray) -> None:
    """An (n × k) array of item indices (``-1`` padding dropped) as long-format Parquet."""
    n, k = lists.shape
    frame = pd.DataFrame(
        {
            "position": np.repeat(np.arange(n, dtype=np.int32), k),
            "rank": np.tile(np.arange(k, dtype=np.int16), n),
            "item": lists.reshape(-1).astype(np.int32),
        }
    )
    frame[frame["item"] >= 0].to_parquet(path, index=False)


def write_similar(path: Path, items: np.ndarray, scores: np.ndarray) -> None:
    """Per item its neighbours (an n_items × N array, ``-1`` padded) and their scores."""
    n, k = items.shape
    frame = pd.DataFrame(
        {
            "item": np.repeat(np.arange(n, dtype=np.int32), k),
            "rank": np.tile(np.arange(k, dtype=np.int16), n),
            "neighbour": items.reshape(-1).astype(np.int32),
            "score": scores.reshape(-1).astype(np.float64),
        }
    )
    keep = (frame["neighbour"] >= 0) & (frame["neighbour"] != frame["item"])
    keep &= np.isfinite(frame["score"]) & (frame["score"] > 0)
    frame[keep].to_parquet(path, index=False)


def top_rows(scores: np.ndarray, k: int, banned: sp.csr_matrix | None = None) -> np.ndarray:
    """Top ``k`` columns per row of a dense score matrix, best first, ``-1`` for no evidence."""
    scores = np.array(scores, dtype=np.float64)
    if banned is not None and banned.nnz:
        coo = banned.tocoo()
        scores[coo.row, coo.col] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    items = order.astype(np.int64)
    items[~np.isfinite(np.take_along_axis(scores, order, axis=1))] = -1
    return items


#: A model's fit-and-rank function: (phase, setting, task) → (all, new) lists or similar.
Fit = Callable[[Phase, Any, str], dict[str, Any]]


def main(
    models: Mapping[str, tuple[Sequence[Any], Fit]],
    argv: Sequence[str] | None = None,
    basket_models: Mapping[str, tuple[Sequence[Any], Fit]] | None = None,
) -> None:
    """The command line every runner shares (see the module docstring).

    ``basket_models`` are the models (and their settings) that answer ``--task baskets``.
    """
    baskets = dict(basket_models or {})
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", type=Path, nargs="?")
    parser.add_argument("out", type=Path, nargs="?")
    parser.add_argument("--model", choices=sorted(set(models) | set(baskets)))
    parser.add_argument("--setting", type=int, default=None)
    parser.add_argument("--task", choices=("lists", "baskets"), default="lists")
    parser.add_argument("--list", action="store_true", help="print models and settings as JSON")
    args = parser.parse_args(argv)
    if args.list:
        listing = {
            task: {name: [repr(s) for s in spec[0]] for name, spec in table.items()}
            for task, table in (("lists", models), ("baskets", baskets))
        }
        print(json.dumps(listing))
        return
    settings, fit = (baskets if args.task == "baskets" else models)[args.model]
    phase = read_phase(args.phase)
    chosen = range(len(settings)) if args.setting is None else [args.setting]
    for index in chosen:
        target = args.out / args.model / str(index)
        target.mkdir(parents=True, exist_ok=True)
        started, cpu = time.perf_counter(), time.process_time()
        result = fit(phase, settings[index], args.task)
        wall, cpu_used = result.pop("fit_wall"), result.pop("fit_cpu")
        for name, value in result.items():
            if name == "similar":
                write_similar(target / "similar.parquet", *value)
            else:
                write_lists(target / f"{name}.parquet", value)
        (target / "fit.json").write_text(
            json.dumps(
                {
                    "setting": repr(settings[index]),
                    "fit_seconds": wall,
                    "fit_cpu_seconds": cpu_used,
                    "total_seconds": time.perf_counter() - started,
                    "total_cpu_seconds": time.process_time() - cpu,
                }
            )
        )


class Timer:
    """``with Timer() as t: fit()`` then ``t.wall`` / ``t.cpu`` (seconds, CPU of all threads)."""

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu
