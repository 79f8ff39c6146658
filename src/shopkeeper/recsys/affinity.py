"""Group affinity: popular items in the categories and price tiers a customer keeps buying.

Every item belongs to at most one group per catalogue field (its category path, its price
tier, ...). A customer's affinity to a group is their share of bought items in it, shrunk
towards the shop's share with ``prior`` pseudo-items, and read as a *lift* over the shop:

    lift_f(u, g) = ((n_ug + prior · p_g) / (n_u + prior)) / p_g

where ``n_ug`` counts the customer's distinct items in group ``g`` of field ``f``, ``n_u``
those in any group of ``f`` and ``p_g`` the group's share of all (customer, item) pairs. An
item's score is its recent popularity times the lifts of its groups:

    score(u, i) = trend(i) · Π_f lift_f(u, g_f(i))

— naive Bayes over the fields: the shop's bestsellers, re-weighted towards the customer's
categories and price tiers. A customer who never bought in a field, and an item without a
group in it, get lift 1 there; a catalogue without any of the fields gives no scores at all
(zeros: the model has nothing to add to popularity). The history is read as bought / not
bought, without recency: tastes in the simulator are stable, and a decayed history scored
worse on its validation cut (BENCHMARKS.md).

Example::

    catalogue = {"tea": ItemContent(category="food/tea", price_tier="mid"), ...}
    GroupAffinity(catalogue).fit(interactions).recommend(user, 10)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Query, ScoringRecommender, as_csr
from shopkeeper.recsys.content import ItemContent
from shopkeeper.recsys.interactions import FloatArray, IntArray, Interactions
from shopkeeper.recsys.popularity import Popularity, PopularityConfig

__all__ = ["AffinityConfig", "GroupAffinity", "group_codes"]

#: Catalogue fields an item can be grouped by (attributes of :class:`ItemContent`).
FIELDS = ("category", "brand", "price_tier")


@dataclass(frozen=True)
class AffinityConfig:
    """Attributes:
    fields: Catalogue fields whose groups carry preferences (see :data:`FIELDS`).
    prior: Pseudo-items at the shop's shares added to every customer's counts.
    popularity_half_life_days: Half-life of the popularity the lifts re-weight (``None``:
        all-time buyers).
    """

    fields: tuple[str, ...] = ("category", "price_tier")
    prior: float = 1.0
    popularity_half_life_days: float | None = 14.0

    def __post_init__(self) -> None:
        if not set(self.fields) <= set(FIELDS):
            raise Invalid(f"fields must be among {', '.join(FIELDS)}", detail={"field": "fields"})
        if self.prior <= 0:
            raise Invalid("prior must be positive", detail={"field": "prior"})


class GroupAffinity(ScoringRecommender):
    """Recent popularity times the customer's lift towards each of the item's groups.

    Args:
        catalogue: Description per external item id (items missing here have no groups).
        config: Fields, prior and popularity half-life.
    """

    personalised = True

    def __init__(
        self, catalogue: Mapping[str, ItemContent], config: AffinityConfig | None = None
    ) -> None:
        self.catalogue = catalogue
        self.config = config or AffinityConfig()
        self.codes: IntArray = np.zeros((0, 0), dtype=np.int64)
        self.shares: FloatArray = np.zeros((0, 0))
        self.popularity: FloatArray = np.zeros(0)
        self._fields: list[tuple[IntArray, IntArray]] = []
        self._grouped = False

    def _fit(self, interactions: Interactions) -> None:
        self.codes = group_codes(interactions.item_ids, self.catalogue, self.config.fields)
        buyers = np.asarray(interactions.binary().sum(axis=0), dtype=np.float64).ravel()
        self.shares = np.zeros((len(self.config.fields), _width(self.codes)))
        for f, codes in enumerate(self.codes):
            grouped = codes >= 0
            counts = np.bincount(codes[grouped], buyers[grouped], self.shares.shape[1])
            self.shares[f] = counts / max(counts.sum(), 1e-12)
        trend = PopularityConfig(half_life_days=self.config.popularity_half_life_days)
        self.popularity = Popularity(trend).fit(interactions).item_scores
        self._prepare()

    def _prepare(self) -> None:
        """Per field: the grouped items and their codes; whether any item is grouped."""
        self._fields = [(np.flatnonzero(c >= 0), c[c >= 0]) for c in self.codes]
        self._grouped = bool((self.codes >= 0).any())

    def _scores(self, query: Query) -> FloatArray:
        history = as_csr(query.history)
        n = history.shape[0]
        if not self._grouped:
            return np.zeros((n, self.n_items))
        scores = np.tile(self.popularity, (n, 1))
        prior = self.config.prior
        owner = np.repeat(np.arange(n), np.diff(history.indptr))[history.data > 0]
        bought = history.indices[history.data > 0]
        for (grouped, codes), field_codes, shares in zip(
            self._fields, self.codes, self.shares, strict=True
        ):
            group = field_codes[bought]
            known = group >= 0
            cells = owner[known] * shares.size + group[known]
            counts = np.bincount(cells, minlength=n * shares.size).reshape(n, shares.size)
            total = counts.sum(axis=1, keepdims=True)
            lift = (counts + prior * shares) / ((total + prior) * np.maximum(shares, 1e-12))
            lift = np.where(shares > 0, lift, 1.0)
            scores[:, grouped] *= lift[:, codes]
        return scores

    def _similar(self, item: int) -> FloatArray:
        """Scores for a customer who bought only ``item``: popular items of its groups."""
        history = sp.csr_matrix(([1.0], ([0], [item])), shape=(1, self.n_items))
        query = Query(np.array([-1], dtype=np.int64), history, self.interactions)
        return np.asarray(self._scores(query)[0], dtype=np.float64)

    def state(self) -> dict[str, Any]:
        return {"codes": self.codes, "shares": self.shares, "popularity": self.popularity}

    def _restore(self, state: Mapping[str, Any]) -> None:
        self.codes = np.asarray(state["codes"], dtype=np.int64)
        self.shares = np.asarray(state["shares"], dtype=np.float64)
        self.popularity = np.asarray(state["popularity"], dtype=np.float64)
        self._prepare()


def group_codes(
    item_ids: tuple[str, ...], catalogue: Mapping[str, ItemContent], fields: tuple[str, ...]
) -> IntArray:
    """Group code per field and item (``-1``: no group), values compared case-insensitively.

    Example::

        >>> group_codes(("a", "b"), {"a": ItemContent(category="Tea")}, ("category",))
        array([[ 0, -1]])
    """
    out = np.full((len(fields), len(item_ids)), -1, dtype=np.int64)
    for f, name in enumerate(fields):
        codes: dict[str, int] = {}
        for n, item in enumerate(item_ids):
            content = catalogue.get(item)
            value = getattr(content, name, None) if content is not None else None
            if value and str(value).strip():
                out[f, n] = codes.setdefault(str(value).strip().lower(), len(codes))
    return out


def _width(codes: IntArray) -> int:
    return int(codes.max()) + 1 if codes.size else 0
