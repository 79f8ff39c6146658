"""Content similarity: products described by category path, brand, price tier, attributes, title.

Each item becomes a sparse TF-IDF-like vector of tokens — ``cat:home``, ``cat:home/kitchen``
(every prefix of the category path, so siblings share their parent), ``brand:acme``,
``tier:mid``, ``attr:colour=red`` and the title's words — each field scaled by its weight in
:class:`ContentConfig`, weighted by ``idf = log(1 + N / df)`` and L2-normalised. Similarity is
the cosine, so a product added this morning has neighbours before anyone buys it.

Items without a description get a zero vector (no neighbours, score 0). A user's scores are
``Σ_i h_i · cos(i, j)``, computed as ``(h · F) · Fᵀ`` without ever forming items × items.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Query, ScoringRecommender
from shopkeeper.recsys.interactions import FloatArray, IntArray, Interactions

__all__ = ["ContentConfig", "ContentRecommender", "ItemContent"]

_WORD = re.compile(r"[a-z0-9]{2,}")


@dataclass(frozen=True)
class ItemContent:
    """What the catalogue says about one product (every field optional)."""

    category: str | None = None
    brand: str | None = None
    price_tier: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None

    def tokens(self) -> list[tuple[str, str]]:
        """``(field, token)`` pairs; the category path yields one token per prefix."""
        out: list[tuple[str, str]] = []
        if self.category:
            parts = [p.strip().lower() for p in re.split(r"[/>|\\]", self.category) if p.strip()]
            out += [("category", "cat:" + "/".join(parts[: n + 1])) for n in range(len(parts))]
        if self.brand:
            out.append(("brand", "brand:" + self.brand.strip().lower()))
        if self.price_tier:
            out.append(("price_tier", "tier:" + self.price_tier.strip().lower()))
        out += [("attributes", f"attr:{k.lower()}={v.lower()}") for k, v in self.attributes.items()]
        if self.title:
            out += [("title", "w:" + w) for w in _WORD.findall(self.title.lower())]
        return out


@dataclass(frozen=True)
class ContentConfig:
    """Attributes:
    weights: Multiplier per field (``category``, ``brand``, ``price_tier``, ``attributes``,
        ``title``) before normalisation.
    """

    weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "category": 2.0,
            "brand": 1.0,
            "price_tier": 0.5,
            "attributes": 1.0,
            "title": 1.0,
        }
    )

    def __post_init__(self) -> None:
        if any(w < 0 for w in self.weights.values()):
            raise Invalid("field weights must not be negative", detail={"field": "weights"})


#: Catalogues up to this many items also keep the item × item similarity as a dense matrix
#: (at most 50 MB, as EASE keeps its weights): a request then scores and explains by reading its
#: rows instead of two sparse products per call.
DENSE_ITEMS = 2_500


class ContentRecommender(ScoringRecommender):
    """Nearest neighbours in product-description space.

    Args:
        content: Description per external item id; ids missing here get no neighbours.
        config: Field weights.
    """

    personalised = True
    by_neighbours = True
    similarity: FloatArray | None = None

    def __init__(
        self, content: Mapping[str, ItemContent], config: ContentConfig | None = None
    ) -> None:
        self.content = content
        self.config = config or ContentConfig()
        self.features: Any = sp.csr_matrix((0, 0))

    def _fit(self, interactions: Interactions) -> None:
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        empty = ItemContent()
        for n, item_id in enumerate(interactions.item_ids):
            for field_name, token in self.content.get(item_id, empty).tokens():
                rows.append(n)
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
                vals.append(float(self.config.weights.get(field_name, 1.0)))
        shape = (len(interactions.item_ids), len(vocabulary))
        tf = sp.csr_matrix((vals, (rows, cols)), shape=shape, dtype=np.float64)
        df = np.bincount(tf.indices, minlength=shape[1]).astype(np.float64)
        described = max(int((np.diff(tf.indptr) > 0).sum()), 1)
        features = tf @ sp.diags(np.log1p(described / np.maximum(df, 1.0)))
        norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
        self.features = sp.csr_matrix(sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ features)
        self._prepare()

    def _prepare(self) -> None:
        f = self.features
        small = f.shape[0] <= DENSE_ITEMS
        self.similarity = np.asarray((f @ f.T).toarray(), dtype=np.float64) if small else None

    def _scores(self, query: Query) -> FloatArray:
        if self.similarity is not None:  # (h F) Fᵀ = h (F Fᵀ)
            return np.asarray(query.history @ self.similarity, dtype=np.float64)
        profile = np.asarray((query.history @ self.features).toarray(), dtype=np.float64)
        return np.asarray((self.features @ profile.T).T, dtype=np.float64)

    def _similar(self, item: int) -> FloatArray:
        if self.similarity is not None:
            return np.array(self.similarity[item], dtype=np.float64)
        f = self.features
        lo, hi = f.indptr[item], f.indptr[item + 1]
        vector = np.zeros(f.shape[1])
        vector[f.indices[lo:hi]] = f.data[lo:hi]
        return np.asarray(f @ vector, dtype=np.float64)

    def _similar_block(self, rows: IntArray, columns: IntArray) -> FloatArray:
        if self.similarity is not None:
            return np.asarray(self.similarity[rows[:, None], columns], dtype=np.float64)
        # cosine is symmetric: one product per column (explanations ask for one or two)
        return np.stack([self._similar(int(c))[rows] for c in columns], axis=1)

    def state(self) -> dict[str, Any]:
        return {"features": self.features}

    def _restore(self, state: Mapping[str, Any]) -> None:
        self.features = sp.csr_matrix(state["features"], dtype=np.float64)
        self._prepare()
