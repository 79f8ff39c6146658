"""The catalogue's stock flags in memory, so a request filters stock without a query.

The snapshot is every product's ``in_stock`` flag, read in one Core query, and refreshed when

* the catalogue changed in this process — :attr:`CatalogService.revision
  <shopkeeper.catalog.service.CatalogService.revision>` moves after each committed catalogue
  write, so a product marked out of stock through this server is never recommended by its next
  request; or
* it is older than ``ttl`` seconds (``SHOPKEEPER_RECOMMENDATIONS_STOCK_TTL``) — the bound on
  how long a change made by *another* process (a second server worker, an import from the CLI)
  can go unseen.

A refresh reads the whole catalogue (a few ms per 10,000 products), so the TTL is the trade
between staleness across processes and that cost. The aligned per-item array of the served
model version is rebuilt with each refresh or version swap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from shopkeeper.recommendations.versions import ModelVersion

__all__ = ["StockSnapshot"]


@dataclass(frozen=True)
class _Snapshot:
    revision: int
    read_at: float
    flags: Mapping[str, bool]
    version: str | None = None
    per_item: np.ndarray | None = None


class StockSnapshot:
    """Stock flags per product and per item of a model version, refreshed cheaply.

    Args:
        read: Reads every product's flag from the store (one query).
        revision: The in-process catalogue change counter.
        ttl: Seconds a snapshot is trusted for changes made by other processes.
        monotonic: The time source for ``ttl`` (injected so tests move it).
    """

    def __init__(
        self,
        read: Callable[[], Mapping[str, bool]],
        revision: Callable[[], int],
        ttl: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._revision = revision
        self.ttl = ttl
        self._monotonic = monotonic
        self._current: _Snapshot | None = None
        self._lock = threading.Lock()
        self.refreshes = 0

    def flags(self) -> Mapping[str, bool]:
        """Sku → in stock, for every product in the catalogue."""
        return self._fresh().flags

    def per_item(self, model: ModelVersion) -> np.ndarray:
        """In-stock flag aligned on ``model.item_ids`` (the training flag for unknown skus)."""
        snapshot = self._fresh()
        if snapshot.version == model.version and snapshot.per_item is not None:
            return snapshot.per_item
        flags = snapshot.flags
        per_item = np.fromiter(
            (
                flags.get(sku, bool(trained))
                for sku, trained in zip(model.item_ids, model.in_stock, strict=True)
            ),
            dtype=bool,
            count=len(model.item_ids),
        )
        with self._lock:
            if self._current is not None and self._current.read_at == snapshot.read_at:
                self._current = _Snapshot(
                    snapshot.revision, snapshot.read_at, flags, model.version, per_item
                )
        return per_item

    def _fresh(self) -> _Snapshot:
        current = self._current
        revision = self._revision()
        now = self._monotonic()
        if (
            current is not None
            and current.revision == revision
            and now - current.read_at < self.ttl
        ):
            return current
        # the revision is taken before the read: a change committed during the read moves it
        # again, so the next request refreshes once more rather than trusting a stale read
        flags = dict(self._read())
        fresh = _Snapshot(revision, now, flags)
        with self._lock:
            self._current = fresh
            self.refreshes += 1
        return fresh
