"""Serving: one ``recommend`` call per placement, from the current model and the live store.

A request reads the served :class:`ModelVersion` (cached in memory, reloaded when the pointer
changes) and, from the store, the visitor's purchases and last views/adds — so a product view
changes the next ``for_you`` and ``cart`` response without retraining. Each placement ranks
candidates, falls back when it has nothing to say (and names the fallback in ``strategy``),
then :func:`~shopkeeper.recommendations.rules.apply_rules` applies the business rules.

Cold start: an unknown visitor gets trending (for their traffic source when an event of theirs
names one); an unknown product gets content neighbours; a customer with no history gets
category bestsellers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy.orm import Session

from shopkeeper.errors import Invalid
from shopkeeper.recommendations import repository
from shopkeeper.recommendations.rules import (
    DEFAULT_RULES,
    Candidate,
    RuleConfig,
    RuleContext,
    apply_rules,
)
from shopkeeper.recommendations.schemas import PLACEMENTS, Recommendations, RecommendedItem
from shopkeeper.recommendations.training import (
    TrainingConfig,
    content_vector,
    models_dir,
    train,
)
from shopkeeper.recommendations.versions import ModelVersion
from shopkeeper.recommendations.visitors import Visitor
from shopkeeper.recsys.content import ItemContent

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

__all__ = ["RecommendationService"]

MAX_K = 100
NEEDS_PRODUCT = frozenset({"also_bought", "bought_together", "similar"})
#: Weight of a session event in the for_you history, newest first, decaying per position.
SESSION_WEIGHT = {"product_added": 2.0, "product_viewed": 1.5}
SESSION_DECAY = 0.85
VERBS = {"bought": "bought", "product_viewed": "viewed", "product_added": "added"}


@dataclass
class Request:
    placement: str
    visitor: Visitor
    product: str | None
    cart: tuple[str, ...]
    k: int


Proposal = tuple[str, list[Candidate]]


class RecommendationService:
    """Recommendations per placement. Reads only; training writes model files, not rows.

    Args:
        shop: The application.
        rules: Rule overrides per placement (merged over :data:`DEFAULT_RULES`).
    """

    def __init__(self, shop: Shopkeeper, rules: Mapping[str, RuleConfig] | None = None) -> None:
        self.shop = shop
        self.rules = {**DEFAULT_RULES, **(rules or {})}
        self.store = models_dir(shop)

    def train(
        self, config: TrainingConfig | None = None, *, on_stage: Callable[[str], None] | None = None
    ) -> ModelVersion:
        """Build and swap in a new version (see :func:`~.training.train`)."""
        return train(self.shop, config, on_stage=on_stage)

    def model(self) -> ModelVersion:
        """The served version (raises ``Unavailable`` before the first training)."""
        return self.store.current()

    def recommend(
        self,
        placement: str,
        *,
        customer: str | None = None,
        anonymous_id: str | None = None,
        product: str | None = None,
        cart: Sequence[str] | None = None,
        k: int = 10,
    ) -> Recommendations:
        """Up to ``k`` items for ``placement``, with the strategy used and a reason per item.

        Raises:
            Invalid: Unknown placement, ``k`` out of range, or a parameter the placement needs
                is missing (``detail.field`` names it).
            Unavailable: No model trained yet.
        """
        if placement not in PLACEMENTS:
            raise Invalid(
                f"unknown placement {placement!r}; one of {', '.join(PLACEMENTS)}",
                detail={"field": "placement"},
            )
        if not 1 <= k <= MAX_K:
            raise Invalid(f"k must be between 1 and {MAX_K}", detail={"field": "k"})
        if placement in NEEDS_PRODUCT and not product:
            raise Invalid(f"{placement} needs a product", detail={"field": "product"})
        if placement == "cart" and not cart:
            raise Invalid("cart needs the cart's skus", detail={"field": "cart"})
        if placement in ("recently_viewed", "buy_again") and not (customer or anonymous_id):
            raise Invalid(
                f"{placement} needs a customer or anonymousId", detail={"field": "customer"}
            )
        model = self.model()
        with self.shop.db.sessions() as session:
            visitor = Visitor(session, customer, anonymous_id)
            request = Request(placement, visitor, product, tuple(cart or ()), k)
            strategy, candidates = getattr(self, f"_{placement}")(session, model, request)
            config = self.rules[placement]
            pinned = [
                _candidate(model, model.index[s], 0.0, "")
                for s in config.pinned
                if s in model.index
            ]
            pool = sorted(candidates, key=lambda c: -c.score)[: max(10 * k, 100)]
            stock = repository.stock(session, {c.sku for c in pool + pinned})
            bought = visitor.purchases if config.exclude_bought else []
        context = RuleContext(
            viewing=product,
            bought=frozenset(sku for sku, _ in bought),
            cart=frozenset(request.cart),
        )
        fresh = [_restocked(c, stock) for c in pool]
        pins = [_restocked(c, stock) for c in pinned]
        chosen = apply_rules(fresh, config, context, k=k, pinned=pins)
        return Recommendations(
            placement=placement,
            strategy=strategy,
            model_version=model.version,
            items=[
                RecommendedItem(
                    sku=c.sku,
                    title=c.title,
                    score=round(c.score, 6),
                    reason=c.explain() if c.explain is not None else c.reason,
                )
                for c in chosen
            ],
        )

    # --- placements: each returns (strategy, candidates) ------------------------------------

    def _for_you(self, session: Session, model: ModelVersion, request: Request) -> Proposal:
        visitor = request.visitor
        if not visitor.known:
            return self._trending(session, model, request)
        weights: dict[int, float] = {}
        label: dict[int, str] = {}
        for sku, _ in visitor.purchases:
            if sku in model.index:
                weights[model.index[sku]] = 1.0
                label[model.index[sku]] = "bought"
        for position, (sku, kind, _) in enumerate(visitor.recent):
            item = model.index.get(sku)
            if item is None:
                continue
            weight = SESSION_WEIGHT[kind] * SESSION_DECAY**position
            if weight > weights.get(item, 0.0):
                weights[item], label[item] = weight, kind
        if not weights:
            return self._bestsellers(model, None)
        items = np.fromiter(weights, dtype=np.int64)
        h = np.fromiter(weights.values(), dtype=np.float64)
        rows = model.scaled["for_you"][items] + 0.5 * model.scaled["also_bought"][items]
        contributions = rows.multiply(h[:, None]).tocsc()
        scores = np.asarray(contributions.sum(axis=0)).ravel()
        if not (scores > 0).any():
            return self._bestsellers(model, {model.top_categories[i] for i in items})

        def reason(item: int) -> str:
            column = contributions[:, item].toarray().ravel()
            source = int(items[int(np.argmax(column))])
            return f"because you {VERBS[label[source]]} {model.title(source)}"

        strategy = "personalised+session" if visitor.recent else "personalised"
        return strategy, _candidates(model, scores, reason)

    def _cart(self, session: Session, model: ModelVersion, request: Request) -> Proposal:
        in_cart = [model.index[s] for s in request.cart if s in model.index]
        viewed = [model.index[s] for s, _, _ in request.visitor.recent if s in model.index]
        parts = []
        for items, name, weight in (
            (in_cart, "bought_together", 1.0),
            (in_cart, "also_bought", 0.5),
            (viewed[:5], "also_bought", 0.3),
        ):
            if items:
                parts.append((np.asarray(items), weight * model.scaled[name][items]))
        if not parts:
            return self._trending(session, model, request)
        stacked = np.concatenate([i for i, _ in parts])
        rows = _vstack([m for _, m in parts]).tocsc()
        scores = np.asarray(rows.sum(axis=0)).ravel()
        if not (scores > 0).any():
            return self._trending(session, model, request)
        cart_rows = 2 * len(in_cart)

        def reason(item: int) -> str:
            best = int(np.argmax(rows[:, item].toarray().ravel()))
            source = model.title(int(stacked[best]))
            return (
                f"often bought with {source}"
                if best < cart_rows
                else f"because you viewed {source}"
            )

        strategy = "cart_complements+session" if viewed else "cart_complements"
        return strategy, _candidates(model, scores, reason)

    def _also_bought(self, session: Session, model: ModelVersion, request: Request) -> Proposal:
        return self._item_row(session, model, request, ("also_bought",))

    def _bought_together(self, session: Session, model: ModelVersion, request: Request) -> Proposal:
        return self._item_row(session, model, request, ("bought_together", "also_bought"))

    def _item_row(
        self, session: Session, model: ModelVersion, request: Request, sources: tuple[str, ...]
    ) -> Proposal:
        sku = str(request.product)
        item = model.index.get(sku)
        if item is not None:
            for source in sources:
                row = getattr(model, source)[item]
                if row.nnz:
                    scores = np.asarray(row.toarray()).ravel()
                    name = model.title(item)
                    text = (
                        f"often bought with {name}"
                        if source == "bought_together"
                        else f"customers who bought {name} also bought this"
                    )
                    strategy = "association" if source == "bought_together" else "also_bought"
                    return strategy, _candidates(model, scores, text)
        return self._similar(session, model, request)

    def _similar(self, session: Session, model: ModelVersion, request: Request) -> Proposal:
        sku = str(request.product)
        item = model.index.get(sku)
        if item is not None:
            vector, name = model.features[item], model.title(item)
        else:
            row = repository.product(session, sku)
            if row is None:
                return self._trending(session, model, request)
            content = ItemContent(row.category_path, row.brand, row.price_tier, title=row.title)
            vector, name = content_vector(content, model), row.title or sku
        scores = np.asarray((model.features @ vector.T).toarray()).ravel()
        strategy = "content"
        if item is not None and model.also_bought[item].nnz:
            scores += 0.3 * np.asarray(model.scaled["also_bought"][item].toarray()).ravel()
            strategy = "content+behaviour"
        return strategy, _candidates(model, scores, f"similar to {name}")

    def _trending(self, session: Session, model: ModelVersion, request: Request) -> Proposal:
        visitor = request.visitor
        viewed = model.index.get(str(request.product))
        if request.placement == "trending" and viewed is not None:
            category = model.top_categories[viewed]
            row = np.where(model.in_categories({category}), model.trending, 0.0)
            if category and (row > 0).any():
                text = f"popular in {category} right now"
                return "trending_in_category", _candidates(model, row, text)
        source = visitor.source
        if source in model.sources:
            row = model.source_trending[model.sources.index(str(source))]
            if (row > 0).any():
                text = f"popular with visitors from {source}"
                return "trending_by_source", _candidates(model, row, text)
        if (model.trending > 0).any():
            return "trending", _candidates(model, model.trending, "popular right now")
        return self._bestsellers(model, None)

    def _bestsellers(self, model: ModelVersion, categories: set[str | None] | None) -> Proposal:
        scores = model.bestsellers.copy()
        if categories:
            mask = model.in_categories(categories)
            if (scores[mask] > 0).any():
                scores[~mask] = 0.0

        def reason(item: int) -> str:
            category = model.top_categories[item]
            return f"bestseller in {category}" if category else "bestseller"

        return "category_bestsellers", _candidates(model, scores, reason)

    def _recently_viewed(self, session: Session, model: ModelVersion, request: Request) -> Proposal:
        seen: dict[str, None] = {}
        for sku, _, _ in request.visitor.recent:
            seen.setdefault(sku, None)
        out = []
        for rank, sku in enumerate(seen):
            item = model.index.get(sku)
            base = _candidate(model, item, 0.0, "") if item is not None else Candidate(sku, 0.0, "")
            out.append(replace(base, score=1.0 / (rank + 1), reason="you viewed this recently"))
        return "recently_viewed", out

    def _buy_again(self, session: Session, model: ModelVersion, request: Request) -> Proposal:
        now = self.shop.clock.now()
        counts = Counter(sku for sku, _ in request.visitor.purchases)
        last = {sku: placed_at for sku, placed_at in request.visitor.purchases}
        out = []
        for sku, count in counts.items():
            item = model.index.get(sku)
            base = _candidate(model, item, 0.0, "") if item is not None else Candidate(sku, 0.0, "")
            interval = float(model.rebuy_days[item]) if item is not None else float("nan")
            if np.isfinite(interval) and interval > 0:
                due = (now - last[sku]).total_seconds() / 86_400.0 / interval
                score, text = (
                    count * (1.0 + min(due, 2.0)),
                    f"you buy this about every {interval:.0f} days",
                )
            else:
                score, text = 0.1 * count, "you bought this before"
            out.append(replace(base, score=score, reason=text))
        return "repeat", out


def _candidate(
    model: ModelVersion,
    item: int,
    score: float,
    reason: str,
    explain: Callable[[], str] | None = None,
) -> Candidate:
    return Candidate(
        sku=model.item_ids[item],
        score=score,
        reason=reason,
        title=model.titles[item],
        category=model.top_categories[item],
        brand=model.brands[item],
        in_stock=model.in_stock[item],
        consumable=bool(model.consumable[item]),
        explain=explain,
    )


def _restocked(candidate: Candidate, stock: Mapping[str, bool]) -> Candidate:
    """The candidate with the store's current stock flag (the model's is from training)."""
    now = stock.get(candidate.sku, candidate.in_stock)
    return candidate if now == candidate.in_stock else replace(candidate, in_stock=now)


def _candidates(
    model: ModelVersion, scores: Any, reason: Callable[[int], str] | str, limit: int = 300
) -> list[Candidate]:
    """Positive-scored items, best first (ties by sku order), at most ``limit``.

    ``reason`` is one text for all, or a function of the item (called for shown items only).
    """
    values = np.asarray(scores, dtype=np.float64)
    positive = np.flatnonzero(np.isfinite(values) & (values > 0))
    order = positive[np.lexsort((positive, -values[positive]))][:limit]
    if isinstance(reason, str):
        return [_candidate(model, int(i), float(values[i]), reason) for i in order]
    # explanations cost a sparse lookup each: made only for the items finally shown
    return [_candidate(model, int(i), float(values[i]), "", partial(reason, int(i))) for i in order]


def _vstack(parts: Sequence[Any]) -> Any:
    return sp.vstack(parts, format="csr")
