"""A visitor's history as the ``for_you`` blend reads it: purchases with their ages, and the
session's views and adds.

Purchases become what the blend's training customers were: per item, the number of distinct
orders holding it and the days since the latest (so recency decay and the buy-again signal
work as in the benchmarks, with ages measured to the request). The session — the visitor's
last views and adds, newest first — becomes a second row of weights (an add weighs
:data:`SESSION_WEIGHT` ``["product_added"]``, each older event :data:`SESSION_DECAY` times
less), which the blend's terms read beside the purchases without retraining.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopkeeper.recommendations.versions import ModelVersion
from shopkeeper.recsys.base import Query
from shopkeeper.recsys.blend import Blend
from shopkeeper.recsys.interactions import FloatArray

__all__ = ["SESSION_DECAY", "SESSION_WEIGHT", "VisitorHistory", "visitor_history"]

#: Weight of a session event in the for_you history, newest first, decaying per position.
SESSION_WEIGHT = {"product_added": 2.0, "product_viewed": 1.5}
SESSION_DECAY = 0.85


@dataclass(frozen=True)
class VisitorHistory:
    """Attributes:
    orders: ``csr_matrix`` (1 × items): distinct orders holding each item.
    age_days: Days from each bought item's latest order to now, aligned with ``orders.data``.
    session: ``csr_matrix`` (1 × items): weights of the items viewed or added lately.
    labels: Per history item, what the visitor did last with it (``bought``,
        ``product_viewed`` or ``product_added``): what an explanation says.
    """

    orders: Any
    age_days: FloatArray
    session: Any
    labels: dict[int, str]

    @property
    def empty(self) -> bool:
        return not (self.orders.nnz or self.session.nnz)

    def query(self, blend: Blend) -> Query:
        """The purchases as a one-user :class:`Query` for ``blend``."""
        rows = np.array([-1], dtype=np.int64)
        return Query(rows, self.orders, blend.interactions, age_days=self.age_days)

    def session_row(self) -> Any:
        """The session weights, or ``None`` when the visitor did nothing lately."""
        return self.session if self.session.nnz else None


def visitor_history(
    model: ModelVersion,
    purchases: Sequence[tuple[str, datetime]],
    recent: Sequence[tuple[str, str, datetime]],
    now: datetime,
) -> VisitorHistory:
    """Purchases (``(sku, placed_at)``) and recent events (``(sku, kind, timestamp)``, newest
    first) of one visitor, on ``model``'s items (unknown skus are left out)."""
    n_items = len(model.item_ids)
    orders: dict[int, set[datetime]] = {}
    for sku, placed_at in purchases:
        item = model.index.get(sku)
        if item is not None:
            orders.setdefault(item, set()).add(_aware(placed_at))
    bought = sorted(orders)
    counts = [float(len(orders[i])) for i in bought]
    ages = np.asarray(
        [max((_aware(now) - max(orders[i])).total_seconds(), 0.0) / 86_400.0 for i in bought],
        dtype=np.float64,
    )
    labels = dict.fromkeys(bought, "bought")
    weights: dict[int, float] = {}
    for position, (sku, kind, _) in enumerate(recent):
        item = model.index.get(sku)
        if item is None:
            continue
        weight = SESSION_WEIGHT[kind] * SESSION_DECAY**position
        if weight > weights.get(item, 0.0):
            weights[item] = weight
            labels[item] = kind
    return VisitorHistory(
        orders=_row(bought, counts, n_items),
        age_days=ages,
        session=_row(list(weights), list(weights.values()), n_items),
        labels=labels,
    )


def _row(items: list[int], values: list[float], n_items: int) -> Any:
    """A 1 × n CSR row with sorted columns (``values`` follow ``items``). Indices are int32,
    scipy's own dtype: int64 ones make its constructor check their contents (twice the cost)."""
    order = np.argsort(np.asarray(items, dtype=np.int32), kind="stable")
    columns = np.asarray(items, dtype=np.int32)[order]
    data = np.asarray(values, dtype=np.float64)[order]
    indptr = np.array([0, columns.size], dtype=np.int32)
    return sp.csr_matrix((data, columns, indptr), shape=(1, n_items))


def _aware(when: datetime) -> datetime:
    """Naive timestamps from SQLite are UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
