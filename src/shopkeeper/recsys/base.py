"""The one interface every model speaks: ``fit / recommend / recommend_many / similar_items``.

Shaped after ``implicit``'s: a model fits on :class:`~shopkeeper.recsys.interactions.Interactions`
and then ranks the whole catalogue for a user. A "user" is either a row of the fitted matrix
(``int``) or a history vector over the items (dense 1-D array or a 1 × items sparse row), so a
visitor who never reached training — or whose session just added a view — is scored the same
way without retraining.

Scores are returned best first. Items a model has no evidence for may score ``-inf`` (e.g.
buy-again for items never bought); those, and excluded items, are never returned, so a result
can be shorter than ``k``. Ties break by item index, so results are deterministic.

Concrete models subclass :class:`ScoringRecommender` and implement ``_fit`` and ``_scores``;
top-k selection, exclusion and batching live here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from shopkeeper.errors import Invalid
from shopkeeper.recsys.interactions import FloatArray, IntArray, Interactions

__all__ = ["Query", "Recommender", "ScoringRecommender", "top_k"]

#: One user for :meth:`Recommender.recommend`: a fitted row, or a history over the items.
UserOrHistory = int | np.integer[Any] | FloatArray | Any


@runtime_checkable
class Recommender(Protocol):
    """What the evaluation harness and the serving layer rely on."""

    def fit(self, interactions: Interactions) -> Self:
        """Learn from the interactions; returns the model for chaining."""
        ...

    def recommend(
        self,
        user: UserOrHistory,
        k: int,
        *,
        exclude: ArrayLike | None = None,
        exclude_seen: bool = False,
    ) -> tuple[IntArray, FloatArray]:
        """Top ``k`` item indices and scores for one user or history vector."""
        ...

    def recommend_many(
        self,
        users: IntArray | Any,
        k: int,
        *,
        exclude_seen: bool = False,
    ) -> tuple[IntArray, FloatArray]:
        """Top ``k`` for many rows at once: ``(n, k)`` arrays padded with ``-1`` / ``-inf``."""
        ...

    def similar_items(self, item: int, k: int) -> tuple[IntArray, FloatArray]:
        """The ``k`` items most similar to ``item`` (never the item itself)."""
        ...


def as_csr(matrix: Any) -> Any:
    """``matrix`` as a float64 CSR matrix; itself when it is one (scipy's constructor costs
    more than a one-row serving history's maths)."""
    if sp.isspmatrix_csr(matrix) and matrix.dtype == np.float64:
        return matrix
    return sp.csr_matrix(matrix, dtype=np.float64)


class Query:
    """A batch of users as the models see it: fitted rows (``-1`` if none) and histories.

    Attributes:
        rows: Fitted row per user, ``-1`` for a history that is not a fitted user.
        history: ``csr_matrix`` (n × items) of the users' weights.
        interactions: The fitted interactions.
        weighted: Whether item-item models should use the history's weights as given (the
            blend passes recency-decayed histories) instead of binarising it.
        age_days: Days since each history cell was last bought, aligned with
            ``history.data`` (``None``: unknown, e.g. a bare history vector). Fitted rows get
            it from the interactions' timestamps; serving from the visitor's orders.
    """

    def __init__(
        self,
        rows: IntArray,
        history: Any,
        interactions: Interactions,
        *,
        weighted: bool = False,
        age_days: FloatArray | None = None,
    ) -> None:
        self.rows = rows
        self.history = history
        self.interactions = interactions
        self.weighted = weighted
        self.age_days = age_days
        if age_days is not None and age_days.shape != history.data.shape:
            raise Invalid("ages do not align with the history", detail={"field": "age_days"})

    def indicator(self) -> Any:
        """The history as item-item models read it: binary, unless :attr:`weighted`."""
        if self.weighted:
            return self.history
        out = self.history.copy()
        out.data[:] = 1.0
        return out

    def part(self, rows: slice) -> Query:
        """The users in ``rows`` (a slice), ages kept aligned."""
        history = self.history[rows]
        ages = None
        if self.age_days is not None:
            indptr = self.history.indptr
            start, stop, _ = rows.indices(self.history.shape[0])
            ages = self.age_days[indptr[start] : indptr[max(stop, start)]]
        return Query(
            self.rows[rows], history, self.interactions, weighted=self.weighted, age_days=ages
        )

    @property
    def known(self) -> bool:
        """Whether every user is a fitted row (so per-row state such as timestamps applies)."""
        return bool(self.rows.size) and bool((self.rows >= 0).all())


class ScoringRecommender(ABC):
    """Base class: subclasses turn a :class:`Query` into a dense (n × items) score matrix."""

    batch_size = 1024
    #: Whether a user's scores are sums of item-to-item similarities over their history, so
    #: an item's score splits by history item (EASE, item-kNN, content).
    by_neighbours = False
    _interactions: Interactions | None = None

    def fit(self, interactions: Interactions) -> Self:
        """Fit on the interactions (see the subclass for what it learns)."""
        self._interactions = interactions
        self._fit(interactions)
        return self

    @property
    def interactions(self) -> Interactions:
        """The interactions of the last :meth:`fit`.

        Raises:
            Invalid: When the model was not fitted yet.
        """
        if self._interactions is None:
            raise Invalid(f"{type(self).__name__} is not fitted", detail={"field": "model"})
        return self._interactions

    @property
    def n_items(self) -> int:
        return self.interactions.shape[1]

    @abstractmethod
    def _fit(self, interactions: Interactions) -> None: ...

    @abstractmethod
    def _scores(self, query: Query) -> FloatArray:
        """Dense (n × items) scores; ``-inf`` where the model has nothing to say."""

    @abstractmethod
    def _similar(self, item: int) -> FloatArray:
        """Dense similarity of every item to ``item`` (its own entry is ignored)."""

    def _similar_block(self, rows: IntArray, columns: IntArray) -> FloatArray:
        """Similarities ``(len(rows) × len(columns))`` of items ``rows`` to items ``columns``."""
        return np.stack([self._similar(int(r))[columns] for r in rows]).reshape(
            rows.size, columns.size
        )

    def state(self) -> dict[str, Any]:
        """The fitted arrays that score history vectors — item-level only, no user's data —
        for a model version to store (see :meth:`restore`).

        Raises:
            Invalid: When the model cannot be served from a stored state.
        """
        raise Invalid(f"{type(self).__name__} has no stored state", detail={"field": "model"})

    def restore(self, item_ids: Sequence[str], state: Mapping[str, Any]) -> Self:
        """Take a :meth:`state` instead of fitting: the model then scores history vectors over
        ``item_ids`` exactly as the fitted one did (it knows no users)."""
        self._interactions = Interactions.catalogue(item_ids)
        self._restore(state)
        return self

    def _restore(self, state: Mapping[str, Any]) -> None:
        raise Invalid(f"{type(self).__name__} has no stored state", detail={"field": "model"})

    def query(self, users: IntArray | Any) -> Query:
        """A :class:`Query` for fitted rows (int array) or histories (sparse/dense 2-D)."""
        if sp.issparse(users) or (isinstance(users, np.ndarray) and users.ndim == 2):
            history = sp.csr_matrix(users, dtype=np.float64)
            if history.shape[1] != self.n_items:
                raise Invalid("history length differs from the items", detail={"field": "user"})
            return Query(np.full(history.shape[0], -1, np.int64), history, self.interactions)
        rows = np.asarray(users, dtype=np.int64).reshape(-1)
        x = self.interactions
        if rows.size and (rows.min() < 0 or rows.max() >= x.shape[0]):
            raise Invalid("user index out of range", detail={"field": "user"})
        ages = (x.now - x.last_seen[_cells(x.matrix.indptr, rows)]) / 86_400.0
        return Query(rows, x.matrix[rows], x, age_days=ages)

    def recommend(
        self,
        user: UserOrHistory,
        k: int,
        *,
        exclude: ArrayLike | None = None,
        exclude_seen: bool = False,
    ) -> tuple[IntArray, FloatArray]:
        """Top ``k`` items for one user.

        Args:
            user: A fitted row index, or a history vector over the items (dense or 1 × n).
            k: How many items at most.
            exclude: Item indices never to return (e.g. the product being viewed).
            exclude_seen: Drop items already in the user's history (off for buy-again).
        """
        if isinstance(user, int | np.integer):
            query = self.query(np.array([int(user)]))
        else:
            vector = user if sp.issparse(user) else np.asarray(user, dtype=np.float64)
            query = self.query(vector.reshape(1, -1))
        scores = self._scores(query)
        if exclude is not None:
            banned = np.asarray(exclude, dtype=np.int64).reshape(-1)
            scores[0, banned[(banned >= 0) & (banned < self.n_items)]] = -np.inf
        items, values = top_k(scores, k, query.history if exclude_seen else None)
        keep = items[0] >= 0
        return items[0][keep], values[0][keep]

    def recommend_many(
        self,
        users: IntArray | Any,
        k: int,
        *,
        exclude_seen: bool = False,
    ) -> tuple[IntArray, FloatArray]:
        """Top ``k`` for many users, scored in batches of :attr:`batch_size` rows."""
        query = self.query(users)
        n = query.history.shape[0]
        items = np.full((n, _check_k(k)), -1, dtype=np.int64)
        values = np.full((n, k), -np.inf)
        for lo in range(0, n, self.batch_size):
            part = slice(lo, lo + self.batch_size)
            sub = query.part(part)
            seen = sub.history if exclude_seen else None
            items[part], values[part] = top_k(self._scores(sub), k, seen)
        return items, values

    def similar_items(self, item: int, k: int) -> tuple[IntArray, FloatArray]:
        """The ``k`` items most similar to ``item``, best first, never ``item`` itself."""
        if not 0 <= int(item) < self.n_items:
            raise Invalid("item index out of range", detail={"field": "item"})
        scores = np.array(self._similar(int(item)), dtype=np.float64).reshape(1, -1)
        scores[0, int(item)] = -np.inf
        items, values = top_k(scores, k)
        keep = items[0] >= 0
        return items[0][keep], values[0][keep]


def top_k(scores: FloatArray, k: int, seen: Any = None) -> tuple[IntArray, FloatArray]:
    """Best ``k`` columns per row, best first, ties by lower index; ``-1`` pads ``-inf`` slots.

    ``scores`` is modified in place when ``seen`` (a sparse matrix of the same shape) is given:
    its stored cells are set to ``-inf`` first.
    """
    k = _check_k(k)
    n, m = scores.shape
    if seen is not None and seen.nnz:
        coo = sp.coo_matrix(seen)
        scores[coo.row, coo.col] = -np.inf
    take = min(k, m)
    if take == 0:
        return np.full((n, k), -1, np.int64), np.full((n, k), -np.inf)
    cols = np.arange(m)
    if take < m:
        cand = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        cand_scores = np.take_along_axis(scores, cand, axis=1)
        # argpartition may cut inside a tie; redo those rows with a full (stable) ordering.
        kth = cand_scores.min(axis=1, keepdims=True)
        cut = ((scores == kth).sum(axis=1) > (cand_scores == kth).sum(axis=1)) & np.isfinite(
            kth[:, 0]
        )
        for row in np.flatnonzero(cut):
            cand[row] = np.lexsort((cols, -scores[row]))[:take]
            cand_scores[row] = scores[row, cand[row]]
    else:
        cand = np.tile(cols, (n, 1))
        cand_scores = scores
    order = np.lexsort((cand, -cand_scores), axis=1)[:, :take]
    items = np.take_along_axis(cand, order, axis=1).astype(np.int64)
    values = np.take_along_axis(cand_scores, order, axis=1).astype(np.float64)
    items[~np.isfinite(values) & (values < 0)] = -1
    if take < k:
        items = np.pad(items, ((0, 0), (0, k - take)), constant_values=-1)
        values = np.pad(values, ((0, 0), (0, k - take)), constant_values=-np.inf)
    return items, values


def _cells(indptr: IntArray, rows: IntArray) -> IntArray:
    """Positions in a CSR matrix's ``data`` of the given rows' cells, in row-slicing order."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return np.asarray(offsets + np.arange(int(lengths.sum())), dtype=np.int64)


def _check_k(k: int) -> int:
    if int(k) < 0:
        raise Invalid("k must not be negative", detail={"field": "k"})
    return int(k)
