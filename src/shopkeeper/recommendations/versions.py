"""Model versions on disk: one directory per version, switched by an atomic ``current`` pointer.

Layout under ``<data_dir>/models/``::

    v000002-20261102T120000Z/arrays.npz       numeric arrays (sparse matrices as CSR parts)
    v000002-20261102T120000Z/manifest.json    ids, titles, categories, vocabulary, stats
    current                                   the name of the version being served

A version is written into a hidden temporary directory, fsynced, renamed into place, and only
then is ``current`` replaced (``os.replace`` of a fsynced temp file), so a reader either sees
the old version or the complete new one — never a half-written model. A version holds item-level
statistics only (no customer ids): who bought what is read from the store at request time.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopkeeper.errors import Unavailable
from shopkeeper.recommendations.lists import RankedLists, ranked, ranked_groups, top_similar
from shopkeeper.recsys.blend import Blend
from shopkeeper.recsys.for_you import ForYouConfig, for_you_blend
from shopkeeper.recsys.interactions import FloatArray

__all__ = ["ModelStore", "ModelVersion"]

POINTER = "current"
#: Versions kept on disk besides the current one (older ones are deleted after a swap).
KEEP_PREVIOUS = 2
SPARSE = ("also_bought", "bought_together", "features", "similar")
#: Prefix of the ``for_you`` blend's arrays in ``arrays.npz``.
BLEND = "for_you:"
#: Neighbours kept per item in the precomputed ``similar`` lists.
SIMILAR_NEIGHBOURS = 300
#: Weight of the (row-scaled) also-bought row blended into content similarity.
SIMILAR_BEHAVIOUR = 0.3
DENSE = ("trending", "bestsellers", "source_trending", "idf", "rebuy_days", "consumable")


@dataclass(frozen=True, eq=False)
class ModelVersion:
    """Everything serving needs, aligned on :attr:`item_ids` (one column per product).

    Attributes:
        version: Directory name; sorts by training time.
        trained_at: ISO timestamp of the training run.
        item_ids: Product skus, sorted.
        titles / categories / brands: Catalogue fields per item (``None`` when unknown).
        in_stock: Stock flag per item at training time (serving re-reads it from the store).
        trending: Time-decayed popularity per item (purchases, adds, views).
        bestsellers: All-time distinct buyers per item.
        sources: Traffic sources with their own trending row in ``source_trending``.
        also_bought: Item × item cosine over customers' purchases (rows pruned).
        bought_together: Item × item basket association (cosine), kept only where lift > 1.
        for_you_state: The fitted ``for_you`` blend's arrays
            (:meth:`~shopkeeper.recsys.blend.Blend.state`); empty when nothing was bought yet.
            EASE's weights are a dense items × items array (5 MB for 800 products, 92 MB for
            Online Retail's 3,400), the price of serving exactly the benchmarked model.
        for_you_config: The :class:`~shopkeeper.recsys.for_you.ForYouConfig` it was built with.
        features: Item × token content vectors (L2-normalised TF-IDF).
        vocabulary / idf / field_weights: How to vectorise a product trained after the fact.
        rebuy_days: Median days between repeat purchases per item (NaN when never re-bought).
        consumable: Whether customers re-buy the item (exclude-already-bought is off for it).
        stats: Counts for the manifest (customers, orders, events used).
        similar: Item × item content cosine + 0.3 × scaled also-bought, the best
            :data:`SIMILAR_NEIGHBOURS` per row (computed from the above when not given).
    """

    version: str
    trained_at: str
    item_ids: tuple[str, ...]
    titles: tuple[str | None, ...]
    categories: tuple[str | None, ...]
    brands: tuple[str | None, ...]
    in_stock: tuple[bool, ...]
    trending: FloatArray
    bestsellers: FloatArray
    sources: tuple[str, ...]
    source_trending: FloatArray
    also_bought: Any
    bought_together: Any
    for_you_state: dict[str, Any]
    for_you_config: dict[str, Any]
    features: Any
    vocabulary: tuple[str, ...]
    idf: FloatArray
    field_weights: dict[str, float]
    rebuy_days: FloatArray
    consumable: Any
    stats: dict[str, int] = field(default_factory=dict)
    similar: Any = None

    def __post_init__(self) -> None:
        if self.similar is None:  # a version trained before ``similar`` was stored
            object.__setattr__(self, "similar", similar_matrix(self.features, self.also_bought))

    def prepare(self) -> ModelVersion:
        """Build every serving structure now, so no request pays for it (returns ``self``)."""
        names = (
            "index",
            "token_index",
            "top_categories",
            "scaled",
            "category_codes",
            "brand_codes",
            "for_you",
        )
        for name in names:
            getattr(self, name)
        self.ranked  # noqa: B018 - a cached property: computed here once
        return self

    @cached_property
    def ranked(self) -> ServingLists:
        """Every precomputed placement list of this version (see :class:`ServingLists`)."""
        return ServingLists.build(self)

    @cached_property
    def for_you(self) -> Blend | None:
        """The ``for_you`` blend restored from its state — the very model the benchmarks
        measure, scoring a visitor's history (``None`` before any purchase)."""
        if not self.for_you_state:
            return None
        config = ForYouConfig.from_dict(self.for_you_config)
        blend = for_you_blend(config, {}, len(self.item_ids))
        return blend.restore(self.item_ids, self.for_you_state)

    @cached_property
    def index(self) -> dict[str, int]:
        """Sku → column."""
        return {sku: n for n, sku in enumerate(self.item_ids)}

    @cached_property
    def token_index(self) -> dict[str, int]:
        """Content token → feature column."""
        return {token: n for n, token in enumerate(self.vocabulary)}

    @cached_property
    def top_categories(self) -> tuple[str | None, ...]:
        """First level of each item's category path (what diversity and bestsellers group by)."""
        return tuple(top_category(c) for c in self.categories)

    @cached_property
    def scaled(self) -> dict[str, Any]:
        """The item-item matrices with each row scaled to a largest entry of 1.

        Serving adds rows of different models (and of several history items), so each row is
        put on the same scale once, when the version is loaded, not on every request.
        """
        names = ("also_bought", "bought_together")
        return {name: row_scaled(getattr(self, name)) for name in names}

    @cached_property
    def category_codes(self) -> tuple[dict[str | None, int], Any]:
        """Top category → code, and the code of each item (for per-category masks)."""
        codes: dict[str | None, int] = {}
        per_item = np.asarray([codes.setdefault(c, len(codes)) for c in self.top_categories])
        return codes, per_item.astype(np.int64)

    @cached_property
    def brand_codes(self) -> Any:
        """A code per item's brand (``-1``: none), for the diversity caps on arrays."""
        codes: dict[str, int] = {}
        per_item = [codes.setdefault(b, len(codes)) if b is not None else -1 for b in self.brands]
        return np.asarray(per_item, dtype=np.int64)

    def in_categories(self, categories: set[str | None]) -> Any:
        """Boolean mask of the items whose top category is one of ``categories``."""
        codes, per_item = self.category_codes
        wanted = [codes[c] for c in categories if c in codes]
        return np.isin(per_item, np.asarray(wanted, dtype=np.int64))

    def title(self, item: int) -> str:
        """A product's title for explanations, falling back to its sku."""
        return self.titles[item] or self.item_ids[item]


@dataclass(frozen=True)
class ServingLists:
    """Ranked lists a request slices instead of sorting (built once per version).

    Attributes:
        also_bought / bought_together / similar: One list per item (its neighbours).
        trending / bestsellers: The whole catalogue's order (one list, row 0).
        trending_by_category: One list per top-category code (``category_codes``).
        trending_by_source: One list per traffic source (``sources``).
        consumable / in_stock: Boolean arrays per item (the training-time stock flag).
        has_also_bought: Whether an item's also-bought row is non-empty.
    """

    also_bought: RankedLists
    bought_together: RankedLists
    similar: RankedLists
    trending: RankedLists
    bestsellers: RankedLists
    trending_by_category: RankedLists
    trending_by_source: RankedLists
    in_stock: Any
    has_also_bought: Any

    @classmethod
    def build(cls, model: ModelVersion) -> ServingLists:
        codes, per_item = model.category_codes
        return cls(
            also_bought=RankedLists.from_matrix(model.also_bought),
            bought_together=RankedLists.from_matrix(model.bought_together),
            similar=RankedLists.from_matrix(model.similar),
            trending=RankedLists.from_groups([ranked(model.trending)]),
            bestsellers=RankedLists.from_groups([ranked(model.bestsellers)]),
            trending_by_category=ranked_groups(model.trending, per_item, len(codes)),
            trending_by_source=RankedLists.from_groups(
                [ranked(row) for row in np.atleast_2d(model.source_trending)[: len(model.sources)]]
            ),
            in_stock=np.asarray(model.in_stock, dtype=bool),
            has_also_bought=np.diff(sp.csr_matrix(model.also_bought).indptr) > 0,
        )


def similar_matrix(features: Any, also_bought: Any) -> Any:
    """Content cosine plus :data:`SIMILAR_BEHAVIOUR` × the row-scaled also-bought row, kept to
    the :data:`SIMILAR_NEIGHBOURS` best per item (what the ``similar`` placement serves)."""
    return top_similar(
        features, row_scaled(also_bought), weight=SIMILAR_BEHAVIOUR, keep=SIMILAR_NEIGHBOURS
    )


def row_scaled(matrix: Any) -> Any:
    """``matrix`` (CSR) with each row divided by its largest entry (empty rows stay empty)."""
    m = sp.csr_matrix(matrix, dtype=np.float64)
    top = np.asarray(m.max(axis=1).toarray()).ravel() if m.shape[1] else np.zeros(m.shape[0])
    return sp.csr_matrix(sp.diags(1.0 / np.where(top > 0, top, 1.0)) @ m)


def top_category(path: str | None) -> str | None:
    """``"women/dresses"`` → ``"women"``."""
    if not path:
        return None
    head = path.strip("/").split("/")[0].strip()
    return head.lower() or None


class ModelStore:
    """Reads and writes versions under one directory; :meth:`current` caches the loaded one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._loaded: ModelVersion | None = None
        self._stamp: tuple[int, int] | None = None

    def next_name(self, stamp: str) -> str:
        """A new version name: a sequence number (so names sort by age) and the stamp."""
        names = [p.name for p in self.root.glob("v*-*") if p.is_dir()] if self.root.exists() else []
        seq = max((int(n[1:].split("-")[0]) for n in names if n[1:7].isdigit()), default=0)
        return f"v{seq + 1:06d}-{stamp}"

    def current_name(self) -> str | None:
        """The version the pointer names, or ``None`` before the first training."""
        try:
            return (self.root / POINTER).read_text().strip() or None
        except FileNotFoundError:
            return None

    def current(self) -> ModelVersion:
        """The served version, loaded once and reloaded when the pointer changes (one
        ``stat`` per call while it does not).

        Raises:
            Unavailable: No model has been trained yet (run ``shopkeeper train``).
        """
        try:
            # the pointer is replaced by rename: a new inode (or mtime) means a new version
            stat = os.stat(self.root / POINTER)
            stamp: tuple[int, int] | None = (stat.st_ino, stat.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        loaded = self._loaded
        if stamp is not None and loaded is not None and stamp == self._stamp:
            return loaded
        name = self.current_name()
        if name is None:
            raise Unavailable(
                "no recommendation model yet: run `shopkeeper train`",
                detail={"field": "model"},
            )
        if loaded is None or loaded.version != name:
            loaded = self.load(name).prepare()
            self._loaded = loaded
        self._stamp = stamp
        return loaded

    def load(self, name: str) -> ModelVersion:
        """Read one version from disk (fully into memory: the files may be deleted later)."""
        directory = self.root / name
        manifest = json.loads((directory / "manifest.json").read_text())
        with np.load(directory / "arrays.npz") as npz:
            arrays = {key: npz[key] for key in npz.files}
        values: dict[str, Any] = {key: arrays[key] for key in DENSE}
        for key in SPARSE:
            if f"{key}.data" not in arrays:  # a version older than the key: rebuilt on load
                continue
            parts = (arrays[f"{key}.data"], arrays[f"{key}.indices"], arrays[f"{key}.indptr"])
            values[key] = sp.csr_matrix(parts, shape=tuple(arrays[f"{key}.shape"]))
        values["consumable"] = values["consumable"].astype(bool)
        values["for_you_state"] = _unpack(arrays, BLEND)
        values["for_you_config"] = manifest.get("for_you_config", {})
        for key in ("item_ids", "titles", "categories", "brands", "in_stock"):
            values[key] = tuple(manifest[key])
        values["sources"] = tuple(manifest["sources"])
        values["vocabulary"] = tuple(manifest["vocabulary"])
        return ModelVersion(
            version=name,
            trained_at=manifest["trained_at"],
            field_weights=manifest["field_weights"],
            stats=manifest["stats"],
            **values,
        )

    def save(self, model: ModelVersion) -> Path:
        """Write ``model`` completely, then point ``current`` at it (the atomic swap)."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".tmp-{model.version}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        arrays: dict[str, Any] = {key: getattr(model, key) for key in DENSE}
        for key in SPARSE:
            matrix = sp.csr_matrix(getattr(model, key))
            arrays |= {
                f"{key}.data": matrix.data,
                f"{key}.indices": matrix.indices,
                f"{key}.indptr": matrix.indptr,
                f"{key}.shape": np.asarray(matrix.shape),
            }
        for key, value in model.for_you_state.items():
            arrays |= _pack(BLEND + key, value)
        with open(staging / "arrays.npz", "wb") as fh:
            np.savez(fh, **arrays)
            _sync(fh)
        manifest = {
            "version": model.version,
            "trained_at": model.trained_at,
            "item_ids": model.item_ids,
            "titles": model.titles,
            "categories": model.categories,
            "brands": model.brands,
            "in_stock": model.in_stock,
            "sources": model.sources,
            "vocabulary": model.vocabulary,
            "field_weights": model.field_weights,
            "for_you_config": model.for_you_config,
            "stats": model.stats,
        }
        with open(staging / "manifest.json", "w") as fh:
            json.dump(manifest, fh)
            _sync(fh)
        final = self.root / model.version
        os.replace(staging, final)
        self._point_to(model.version)
        self._prune(model.version)
        return final

    def _point_to(self, name: str) -> None:
        temp = self.root / f".{POINTER}.tmp"
        with open(temp, "w") as fh:
            fh.write(name)
            _sync(fh)
        os.replace(temp, self.root / POINTER)
        _sync_dir(self.root)

    def _prune(self, keep: str) -> None:
        versions = sorted(p.name for p in self.root.glob("v*-*") if p.is_dir())
        old = [v for v in versions if v != keep][: max(len(versions) - 1 - KEEP_PREVIOUS, 0)]
        for name in old:
            shutil.rmtree(self.root / name, ignore_errors=True)


def _pack(name: str, value: Any) -> dict[str, Any]:
    """One array for ``arrays.npz``: dense as is, sparse as its CSR parts (``name:data`` ...)."""
    if not sp.issparse(value):
        return {name: np.asarray(value)}
    matrix = sp.csr_matrix(value)
    return {
        f"{name}:data": matrix.data,
        f"{name}:indices": matrix.indices,
        f"{name}:indptr": matrix.indptr,
        f"{name}:shape": np.asarray(matrix.shape),
    }


def _unpack(arrays: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The arrays :func:`_pack` wrote under ``prefix``, sparse ones rebuilt, prefix dropped."""
    out: dict[str, Any] = {}
    for key, value in arrays.items():
        if not key.startswith(prefix):
            continue
        name, _, part = key[len(prefix) :].partition(":")
        if not part:
            out[name] = value
        elif part == "data":
            stem = prefix + name
            parts = (value, arrays[f"{stem}:indices"], arrays[f"{stem}:indptr"])
            out[name] = sp.csr_matrix(parts, shape=tuple(arrays[f"{stem}:shape"]))
    return out


def _sync(fh: Any) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _sync_dir(path: Path) -> None:
    """Make the rename durable (directory entries are data too); a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
