"""The peers' last results, kept beside the export so ``--only ours`` can reuse them.

A full run of ``benchmarks.recsys_peers`` writes every peer row (lists and baskets) to
``<work>/peers-cache.json`` under a key hashed from both splits (training matrices, their
timestamps, test users and truth), so a cache is reused only for exactly the split it was
measured on. Rows are the harness's own dataclasses, passed in as factories to keep this
module free of the harness.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopkeeper.recsys.evaluate import Evaluation, TaskResult
from shopkeeper.recsys.split import Split

__all__ = ["CACHE", "evaluation_from", "read", "split_key", "write"]

CACHE = "peers-cache.json"


def split_key(*splits: Split) -> str:
    """A hash of what the peers were measured on: each split's training matrix, timestamps,
    test users and truth."""
    digest = hashlib.sha256()
    for split in splits:
        train = split.train
        for array in (
            train.matrix.data,
            train.matrix.indices,
            train.matrix.indptr,
            train.last_seen,
            split.test_users,
            split.truth.indices,
            split.truth.indptr,
        ):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update("\n".join(train.item_ids).encode())
    return digest.hexdigest()


def write(work: Path, key: str, rows: Sequence[Any], baskets: Sequence[Any]) -> Path:
    """Store peer rows (``Row`` / ``BasketRow`` of the harness) under ``key``."""
    path = work / CACHE
    payload = {
        "key": key,
        "rows": [_row_dict(r) for r in rows],
        "baskets": [vars(b) for b in baskets],
    }
    path.write_text(json.dumps(payload, indent=1, default=str) + "\n")
    return path


def read(
    work: Path, key: str, row: Callable[..., Any], basket: Callable[..., Any]
) -> tuple[list[Any], list[Any]]:
    """The cached peer rows, rebuilt with the ``row`` and ``basket`` factories.

    Raises:
        SystemExit: No cache, or one measured on another split (run without ``--only``).
    """
    path = work / CACHE
    if not path.exists():
        raise SystemExit(f"no peer cache at {path}: run once without --only ours")
    payload = json.loads(path.read_text())
    if payload["key"] != key:
        raise SystemExit(f"{path} was measured on another split: run once without --only ours")
    rows = [row(**{**r, "evaluation": evaluation_from(r["evaluation"])}) for r in payload["rows"]]
    return rows, [basket(**b) for b in payload["baskets"]]


def evaluation_from(data: dict[str, Any]) -> Evaluation:
    """An :class:`Evaluation` from its JSON form (tenure groups come back as tuples)."""
    tasks = {
        task: TaskResult(
            **{**values, "by_tenure": {g: tuple(v) for g, v in values["by_tenure"].items()}}
        )
        for task, values in data["tasks"].items()
    }
    return Evaluation(
        data["fit_seconds"], data["score_seconds"], tasks, data.get("fit_cpu_seconds", np.nan)
    )


def _row_dict(row: Any) -> dict[str, Any]:
    evaluation: Evaluation = row.evaluation
    return {
        **{k: v for k, v in vars(row).items() if k != "evaluation"},
        "evaluation": {
            "fit_seconds": evaluation.fit_seconds,
            "score_seconds": evaluation.score_seconds,
            "fit_cpu_seconds": evaluation.fit_cpu_seconds,
            "tasks": {task: vars(t) for task, t in evaluation.tasks.items()},
        },
    }
