"""The ``for_you`` ranker: a weighted blend of model scores with repeat and recency signals.

For each user every component's scores are scaled to at most 1 by that user's best score (so a
model's weight means the same for heavy and light users, whatever its score units), ``-inf``
counts as 0, and the blend adds:

* ``Σ_m w_m · ŝ_m`` — the component models (EASE, content, trending, group affinity ...);
* ``repeat_weight · r̂`` — the buy-again signal (purchase count decayed with
  ``repeat_half_life_days``, optionally times the item's repeat propensity), scaled the same
  way: on retail data the best single predictor;
* recency — with ``recency_half_life_days`` the history handed to the components is decayed
  (each bought item weighs ``2^(-age / half-life)``), so last week's purchases pull their
  neighbours up more than last year's. Ages come with the query
  (:attr:`~shopkeeper.recsys.base.Query.age_days`): from the training timestamps for fitted
  users, from the visitor's orders when serving.

:meth:`Blend.parts` returns the weighted terms one by one and takes an optional *session* —
weights of items the visitor viewed or added just now — which the components see beside the
purchases, without retraining; :meth:`Blend.because` explains an item from its terms ("because
you bought X" when the item-to-item terms carry enough of its score).
:meth:`~shopkeeper.recsys.base.ScoringRecommender.state` and ``restore`` carry a fitted blend
into a model version and back, so serving runs this very code (:mod:`shopkeeper.recsys.for_you`
builds the configuration both use).

Example::

    blend = Blend({"ease": Ease(), "knn": ItemKNN()}, BlendConfig({"ease": 1.0, "knn": 0.5}))
    blend.fit(interactions).recommend(user, 10)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from shopkeeper.errors import Invalid
from shopkeeper.recsys.base import Query, ScoringRecommender, as_csr
from shopkeeper.recsys.interactions import FloatArray, Interactions
from shopkeeper.recsys.repeat import BuyAgain, BuyAgainConfig

__all__ = ["REPEAT", "Blend", "BlendConfig"]

#: Name of the buy-again term in :meth:`Blend.parts`.
REPEAT = "repeat"


@dataclass(frozen=True)
class BlendConfig:
    """Attributes:
    weights: Weight per component name (names not listed weigh 1).
    repeat_weight: Weight of the buy-again signal (0 turns it off).
    repeat_half_life_days: Recency half-life inside the buy-again signal.
    repeat_propensity_prior: Weigh the buy-again signal by each item's repeat propensity
        (:class:`~shopkeeper.recsys.repeat.BuyAgainConfig`); ``None``: off.
    recency_half_life_days: Decay of the history the components see (``None``: none).
    """

    weights: Mapping[str, float] = field(default_factory=dict)
    repeat_weight: float = 1.0
    repeat_half_life_days: float | None = 90.0
    repeat_propensity_prior: float | None = None
    recency_half_life_days: float | None = None

    def __post_init__(self) -> None:
        if self.repeat_weight < 0 or any(w < 0 for w in self.weights.values()):
            raise Invalid("weights must not be negative", detail={"field": "weights"})
        if self.recency_half_life_days is not None and self.recency_half_life_days <= 0:
            raise Invalid("half-life must be positive", detail={"field": "recency_half_life_days"})


class Blend(ScoringRecommender):
    """Weighted sum of per-user-normalised component scores and the buy-again signal.

    Args:
        components: Named models; fitted by :meth:`fit` unless ``refit`` is false (then they
            must already be fitted on the same interactions — tuning reuses them this way).
        config: Weights and half-lives.
        refit: Fit the components in :meth:`fit`.
    """

    personalised = True

    def __init__(
        self,
        components: Mapping[str, ScoringRecommender],
        config: BlendConfig | None = None,
        *,
        refit: bool = True,
    ) -> None:
        if REPEAT in components:
            raise Invalid(f"{REPEAT!r} names the buy-again term", detail={"field": "components"})
        self.components = dict(components)
        self.config = config or BlendConfig()
        self.refit = refit
        self.repeat = BuyAgain(
            BuyAgainConfig(self.config.repeat_half_life_days, self.config.repeat_propensity_prior)
        )

    def _fit(self, interactions: Interactions) -> None:
        if self.refit:
            for model in self.components.values():
                model.fit(interactions)
        self.repeat.fit(interactions)

    def weight(self, name: str) -> float:
        """A term's weight (:data:`REPEAT` for the buy-again signal)."""
        if name == REPEAT:
            return self.config.repeat_weight
        return self.config.weights.get(name, 1.0)

    def parts(
        self, query: Query, session: Any = None, *, inner: Query | None = None
    ) -> dict[str, FloatArray]:
        """Each weighted, normalised term (n × items) by name; their sum is the score.

        Args:
            query: The users: fitted rows or purchase histories (counts), with ages if known.
            session: Optional (n × items) weights of items viewed or added just now; the
                components see the larger of it and the decayed purchase history.
            inner: :meth:`component_query` of ``query`` and ``session`` if already built.
        """
        inner = inner if inner is not None else self.component_query(query, session)
        out: dict[str, FloatArray] = {}
        for name, model in self.components.items():
            if self.weight(name):
                out[name] = self.weight(name) * _normalise(model._scores(inner))
        if self.config.repeat_weight:
            out[REPEAT] = self.config.repeat_weight * _normalise(self.repeat.signal(query))
        return out

    def total(self, query: Query, parts: Mapping[str, FloatArray]) -> FloatArray:
        """The blend's scores (n × items) from the :meth:`parts` of ``query``."""
        out = np.zeros((query.history.shape[0], self.n_items))
        for part in parts.values():
            out += part
        return out

    def _scores(self, query: Query) -> FloatArray:
        return self.total(query, self.parts(query))

    def component_query(self, query: Query, session: Any = None) -> Query:
        """What the components see: the history decayed by age, at least ``session``'s weights
        (build it once to share between :meth:`parts` and :meth:`explainer`)."""
        half_life = self.config.recency_half_life_days
        if session is None and (half_life is None or query.age_days is None):
            return query
        history = as_csr(query.history)
        weights = np.ones(history.nnz)
        if half_life is not None and query.age_days is not None:
            weights = np.exp2(-query.age_days / half_life)
        decayed = sp.csr_matrix((weights, history.indices, history.indptr), shape=history.shape)
        if session is not None:
            decayed = _maximum(decayed, as_csr(session))
        return Query(query.rows, decayed, query.interactions, weighted=True)

    def because(
        self,
        query: Query,
        items: Sequence[int],
        parts: Mapping[str, FloatArray],
        session: Any = None,
        *,
        neighbour_share: float = 1 / 3,
    ) -> list[tuple[str, int | None]]:
        """Why the one user in ``query`` gets each of ``items`` (``parts`` from :meth:`parts`).

        Concrete evidence first: when the terms that sum item-to-item similarities over the
        history (:attr:`~.base.ScoringRecommender.by_neighbours`: EASE, content) carry at least
        ``neighbour_share`` of an item's score, the answer is the larger of them and the
        history item lending the item most through them — what "because you bought X" names.
        Otherwise it is the largest other term (trending, affinity, repeat) and ``None``.
        """
        explain = self.explainer(query, parts, session, neighbour_share=neighbour_share)
        explain.prepare([int(item) for item in items])
        return [explain(int(item)) for item in items]

    def explainer(
        self,
        query: Query,
        parts: Mapping[str, FloatArray],
        session: Any = None,
        *,
        neighbour_share: float = 1 / 3,
        inner: Query | None = None,
    ) -> Explainer:
        """:meth:`because` as a callable, the component history built once (serving explains
        only the few items it shows, after the rules chose them); ``inner`` as in
        :meth:`parts`."""
        history = (inner if inner is not None else self.component_query(query, session)).indicator()
        return Explainer(self, history, parts, neighbour_share)

    def _similar(self, item: int) -> FloatArray:
        total = np.zeros(self.n_items)
        for name, model in self.components.items():
            if self.weight(name) and getattr(model, "item_to_item", True):
                row = model._similar(item).reshape(1, -1)
                row[0, item] = -np.inf
                total += self.weight(name) * _normalise(row)[0]
        return total

    def state(self) -> dict[str, Any]:
        """Every component's state as ``"<name>.<key>"``, the buy-again one as ``repeat.*``."""
        out = {f"{REPEAT}.{k}": v for k, v in self.repeat.state().items()}
        for name, model in self.components.items():
            out |= {f"{name}.{k}": v for k, v in model.state().items()}
        return out

    def restore(self, item_ids: Sequence[str], state: Mapping[str, Any]) -> Self:
        super().restore(item_ids, state)
        for name, model in [*self.components.items(), (REPEAT, self.repeat)]:
            mine = {k.split(".", 1)[1]: v for k, v in state.items() if k.split(".")[0] == name}
            model.restore(item_ids, mine)
        return self

    def _restore(self, state: Mapping[str, Any]) -> None:
        """Nothing of its own: :meth:`restore` hands each component its part."""


class Explainer:
    """:meth:`Blend.because` for the one user of a query: call it with an item, after
    :meth:`prepare` with every item about to be explained, which answers them all in a few
    array operations (one per term rather than a dozen per item)."""

    def __init__(
        self, blend: Blend, history: Any, parts: Mapping[str, FloatArray], neighbour_share: float
    ) -> None:
        self.blend = blend
        self.history = history
        self.parts = parts
        self.neighbour_share = neighbour_share
        self.names = list(parts)
        components = blend.components
        self.near = np.array([n in components and components[n].by_neighbours for n in self.names])
        self._answers: dict[int, tuple[str, int | None]] = {}

    def prepare(self, items: Sequence[int]) -> None:
        """Explain ``items`` (their answers are kept for the calls that follow)."""
        columns = np.asarray([i for i in dict.fromkeys(items) if i not in self._answers], np.int64)
        if not columns.size or not self.names:
            return
        names, near, history = self.names, self.near, self.history
        values = np.stack([self.parts[name][0, columns] for name in names])  # terms × items
        positive = np.maximum(values, 0.0)
        total = positive.sum(axis=0)
        close = positive[near].sum(axis=0)
        rows = history.indices
        lent = np.zeros((rows.size, columns.size))  # per history item, its share of the score
        if history.nnz:
            itself = rows[:, None] == columns[None, :]
            for t in np.flatnonzero(near):
                block = self.blend.components[names[t]]._similar_block(rows, columns)
                share = np.where(itself, 0.0, history.data[:, None] * block)
                sums = share.sum(axis=0)
                used = (values[t] > 0) & (sums > 0)
                lent += np.where(used, share * (values[t] / np.where(used, sums, 1.0)), 0.0)
        explained = (
            (history.nnz > 0)
            & (total > 0)
            & (close >= self.neighbour_share * total)
            & (lent > 0).any(axis=0)
        )
        neighbours = np.flatnonzero(near)
        others = np.flatnonzero(~near) if (~near).any() else np.arange(len(names))
        best_other = others[np.argmax(values[others], axis=0)]
        best_near = neighbours[np.argmax(values[neighbours], axis=0)] if neighbours.size else None
        source = rows[np.argmax(lent, axis=0)] if rows.size else None
        for n, item in enumerate(columns.tolist()):
            if explained[n] and best_near is not None and source is not None:
                self._answers[item] = (names[int(best_near[n])], int(source[n]))
            else:
                self._answers[item] = (names[int(best_other[n])], None)

    def __call__(self, item: int) -> tuple[str, int | None]:
        if item not in self._answers:
            self.prepare([item])
        return self._answers[item]


def _maximum(a: Any, b: Any) -> Any:
    """Cell-wise maximum of two non-negative CSR matrices of one shape (a missing cell is 0),
    in numpy: scipy's ``maximum`` costs more than the rest of a serving request's maths."""
    n = a.shape[0]
    rows = np.concatenate(
        [np.repeat(np.arange(n), np.diff(a.indptr)), np.repeat(np.arange(n), np.diff(b.indptr))]
    )
    columns = np.concatenate([a.indices, b.indices])
    data = np.concatenate([a.data, b.data])
    order = np.lexsort((-data, columns, rows))
    rows, columns, data = rows[order], columns[order], data[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (columns[1:] != columns[:-1])]
    indptr = np.r_[0, np.cumsum(np.bincount(rows[first], minlength=n))].astype(a.indptr.dtype)
    return sp.csr_matrix((data[first], columns[first], indptr), shape=a.shape)


def _normalise(scores: FloatArray) -> FloatArray:
    """Scale each row so its best finite score is 1 (rows without a positive one stay as are).

    ``-inf`` (no evidence) becomes 0; negative scores keep their sign, scaled the same way.
    """
    out = np.where(np.isfinite(scores), scores, 0.0)
    top = out.max(axis=1, keepdims=True)
    return out / np.where(top > 0, top, 1.0)
