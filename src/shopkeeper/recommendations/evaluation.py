"""``shopkeeper evaluate``: our recommenders measured on the shop's own purchase history.

The store's completed product lines become an :class:`~shopkeeper.recsys.split.EventLog`; a
temporal split at ``cut`` (default: three quarters of the way through the history) holds out
the last quarter as the test period, and a validation split inside the training period (default:
at 58%) tunes every model family with the same budget (:mod:`shopkeeper.recsys.tuning`). Each
family is refitted on the training period and scored on both tasks (all purchases; items new
to the customer) with :mod:`shopkeeper.recsys.evaluate`; ``bought_together`` gets the basket
completion test (:mod:`shopkeeper.recsys.baskets`) against raw co-counts.

The peers (``implicit``, SAR, ...) are not run here — they are benchmark-only dependencies;
``python -m benchmarks.recsys_peers`` runs them through the same scoring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import numpy as np

from shopkeeper.errors import Invalid
from shopkeeper.recommendations import repository
from shopkeeper.recommendations.training import item_catalogue
from shopkeeper.recsys.baskets import association, basket_matrix, co_counts, complete, hide_one
from shopkeeper.recsys.baskets import hit_rate_mrr as basket_scores
from shopkeeper.recsys.content import ItemContent
from shopkeeper.recsys.evaluate import Evaluation, evaluate
from shopkeeper.recsys.split import EventLog, Split, temporal_split
from shopkeeper.recsys.tuning import BASKET_SETTINGS, FOR_YOU, families, tune

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

__all__ = [
    "ModelResult",
    "Report",
    "catalogue",
    "default_cuts",
    "purchase_log",
    "run",
    "svg_chart",
]

#: Share of the history before the default test cut, and before the validation cut.
CUT_SHARE = 0.75
VALIDATION_SHARE = 0.58


@dataclass(frozen=True)
class ModelResult:
    name: str
    setting: str
    evaluation: Evaluation


@dataclass(frozen=True)
class Report:
    """Attributes:
    cut: Test cut; validation_cut: tuning cut (both UTC).
    customers / items: Training matrix size; test_customers: users scored.
    models: One result per family, ``for_you`` last.
    baskets: ``(name, HitRate@k, MRR@k)`` for bought_together and raw co-counts.
    basket_tests: Number of hide-one basket tests.
    """

    cut: datetime
    validation_cut: datetime
    customers: int
    items: int
    test_customers: int
    k: int
    models: list[ModelResult]
    baskets: list[tuple[str, float, float]]
    basket_tests: int


def purchase_log(shop: Shopkeeper) -> EventLog:
    """Every completed product line of a known customer, as the evaluation reads them."""
    with shop.db.sessions() as session:
        bought = repository.purchases(session)
    return EventLog.from_arrays(
        [p.customer_id for p in bought],
        [p.sku for p in bought],
        [_aware(p.placed_at).timestamp() for p in bought],
        [p.order_id for p in bought],
    )


def catalogue(shop: Shopkeeper) -> dict[str, ItemContent]:
    """The products as the ``for_you`` blend's content and affinity terms read them (the
    catalogue as it is now: descriptions, not purchases, so no test-period purchase leaks)."""
    with shop.db.sessions() as session:
        return item_catalogue(repository.catalog(session))


def default_cuts(events: EventLog) -> tuple[float, float]:
    """Test and validation cuts at :data:`CUT_SHARE` / :data:`VALIDATION_SHARE` of the span.

    Raises:
        Invalid: When there are no purchases to split.
    """
    if events.timestamps.size == 0:
        raise Invalid("the store holds no purchases to evaluate on", detail={"field": "cut"})
    first, last = float(events.timestamps.min()), float(events.timestamps.max())
    return first + CUT_SHARE * (last - first), first + VALIDATION_SHARE * (last - first)


def run(
    events: EventLog,
    cut: float,
    validation_cut: float,
    k: int = 10,
    *,
    on_step: Callable[[str], None] | None = None,
    seed: int = 42,
    items: Mapping[str, ItemContent] | None = None,
) -> Report:
    """Tune, fit and score every family, then the basket test.

    Args:
        events: Purchase lines.
        cut: Test cut (seconds); validation_cut: tuning cut, before ``cut``.
        k: List length.
        on_step: Called with each family's name as it starts, then ``"bought_together"``.
        seed: Seeds ALS and the basket test's hidden items.
        items: Product descriptions for the ``for_you`` blend (:func:`catalogue`).

    Raises:
        Invalid: When the cuts are out of order or leave no customer on both sides.
    """
    if not validation_cut < cut:
        raise Invalid("the validation cut must come before the cut", detail={"field": "cut"})
    step = on_step or (lambda _name: None)
    split = _split(events, cut, "cut")
    validation = _split(events.before(cut), validation_cut, "validation_cut")
    tuned: dict[str, Any] = {}
    models = []
    n_items = split.train.shape[1]
    for family in families(lambda: float(tuned["EASE"]), seed, catalogue=items, n_items=n_items):
        step(family.name)
        best, _ = tune(family, validation, k)
        tuned[family.name] = best
        models.append(ModelResult(family.name, str(best), evaluate(family.build(best), split, k)))
    step("bought_together")
    baskets, tests = _baskets(events, split, cut, validation, validation_cut, k, seed)
    return Report(
        cut=datetime.fromtimestamp(cut, UTC),
        validation_cut=datetime.fromtimestamp(validation_cut, UTC),
        customers=split.train.shape[0],
        items=split.train.shape[1],
        test_customers=int(split.test_users.size),
        k=k,
        models=models,
        baskets=baskets,
        basket_tests=tests,
    )


def _split(events: EventLog, cut: float, name: str) -> Split:
    if not (events.timestamps < cut).any():
        raise Invalid("no purchases before this cut", detail={"field": name})
    split = temporal_split(events, cut)
    if split.test_users.size == 0 or split.truth.nnz == 0:
        raise Invalid("no customer bought both before and after this cut", detail={"field": name})
    return split


def _baskets(
    events: EventLog,
    split: Split,
    cut: float,
    validation: Split,
    validation_cut: float,
    k: int,
    seed: int,
) -> tuple[list[tuple[str, float, float]], int]:
    """bought_together (tuned on the validation period's baskets) against raw co-counts."""

    def matrices(part: EventLog, columns: dict[str, int], at: float) -> tuple[Any, Any]:
        known = np.fromiter((columns.get(i, -1) for i in part.items), np.int64, part.items.size)
        n_items = len(columns)
        out = []
        for side in (part.timestamps < at, part.timestamps >= at):
            keep = side & (known >= 0)
            rows = np.unique(part.baskets[keep], return_inverse=True)[1]
            out.append(basket_matrix(rows, known[keep], n_items))
        return out[0], out[1]

    rng = np.random.default_rng(seed)
    val_train, val_future = matrices(
        events.before(cut), validation.train.item_index, validation_cut
    )
    val_test = hide_one(val_future, rng)
    train, future = matrices(events, split.train.item_index, cut)
    test = hide_one(future, rng)

    def build(matrix: Any, setting: tuple[int, int]) -> Any:
        return association(matrix, min_support=setting[0], neighbours=setting[1])

    hits = [
        basket_scores(complete(build(val_train, s), val_test.queries, k), val_test.hidden)[0]
        for s in BASKET_SETTINGS
    ]
    best = BASKET_SETTINGS[int(np.nanargmax(hits))] if not np.isnan(hits).all() else (2, 50)
    ours = complete(build(train, best), test.queries, k)
    raw = complete(co_counts(train), test.queries, k)
    return [
        (
            f"bought_together (min_support {best[0]}, {best[1]} neighbours)",
            *basket_scores(ours, test.hidden),
        ),
        ("raw co-counts", *basket_scores(raw, test.hidden)),
    ], len(test)


def svg_chart(report: Report) -> str:
    """Horizontal bars of NDCG@k per model, one colour per task, ``for_you`` in bold."""
    tasks = (("all", "all purchases", "#1f5fa8"), ("new", "new items", "#e08a1e"))
    label_w, bar_w, row_h = 150, 360, 30
    top = 46
    height = top + row_h * len(report.models) + 30
    values = [m.evaluation.tasks[t].ndcg for m in report.models for t, _, _ in tasks]
    finite = [v for v in values if np.isfinite(v)]
    scale = max(finite) if finite and max(finite) > 0 else 1.0
    font = 'font-family="sans-serif" font-size="11"'
    parts = [
        f'<text x="10" y="18" {font} font-size="13">NDCG@{report.k} per model (test period '
        f"from {report.cut:%Y-%m-%d}, {report.test_customers:,} customers)</text>"
    ]
    for n, (_, title, colour) in enumerate(tasks):
        x = label_w + n * 130
        parts.append(f'<rect x="{x}" y="27" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="36" {font}>{escape(title)}</text>')
    for row, model in enumerate(report.models):
        y = top + row * row_h
        weight = ' font-weight="bold"' if model.name == FOR_YOU else ""
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" {font}{weight}>'
            f"{escape(model.name)}</text>"
        )
        for n, (task, _, colour) in enumerate(tasks):
            value = model.evaluation.tasks[task].ndcg
            value = value if np.isfinite(value) else 0.0
            width = bar_w * value / scale
            by = y + 3 + n * 12
            parts.append(
                f'<rect x="{label_w}" y="{by}" width="{width:.1f}" height="11" fill="{colour}"/>'
            )
            parts.append(
                f'<text x="{label_w + width + 4:.1f}" y="{by + 9}" {font}>{value:.4f}</text>'
            )
    width = label_w + bar_w + 70
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>NDCG@{report.k} per model</title>\n'
        f'<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n'
    )


def _aware(when: datetime) -> datetime:
    """Naive timestamps from SQLite are UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
