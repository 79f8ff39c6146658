"""Serving: one ``recommend`` call per placement, from the current model and the live store.

A request reads the served :class:`ModelVersion` (cached in memory, reloaded when the pointer
changes) and, from the store, the visitor's purchases and last views/adds — so a product view
changes the next ``for_you`` and ``cart`` response without retraining. Each placement ranks
candidates, falls back when it has nothing to say (and names the fallback in ``strategy``),
then :func:`~shopkeeper.recommendations.rules.apply_rules` applies the business rules.

Cold start: an unknown visitor gets trending (for their traffic source when an event of theirs
names one); an unknown product gets content neighbours; a customer with no history gets
category bestsellers.

The hot path is arrays, not objects: precomputed placements slice a list the model version
ranked when it loaded (:class:`~.versions.ServingLists`), session re-ranking adds a few sparse
rows read straight from their CSR arrays, stock comes from an in-memory snapshot
(:mod:`.stock`), and vectorised masks drop excluded, out-of-stock, viewed and already-bought
items before any :class:`Candidate` is built — only for the best few survivors, which
``apply_rules`` then checks again and diversifies.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from shopkeeper.db import Reader
from shopkeeper.errors import Invalid
from shopkeeper.recommendations import repository
from shopkeeper.recommendations.history import visitor_history
from shopkeeper.recommendations.lists import ranked
from shopkeeper.recommendations.rules import (
    DEFAULT_RULES,
    Candidate,
    RuleConfig,
    RuleContext,
    apply_rules,
    excluded_category,
)
from shopkeeper.recommendations.schemas import PLACEMENTS, Recommendations, RecommendedItem
from shopkeeper.recommendations.stock import StockSnapshot
from shopkeeper.recommendations.training import (
    TrainingConfig,
    content_vector,
    models_dir,
    train,
)
from shopkeeper.recommendations.versions import ModelVersion
from shopkeeper.recommendations.visitors import Visitor
from shopkeeper.recsys.blend import REPEAT
from shopkeeper.recsys.content import ItemContent

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

__all__ = ["RecommendationService"]

MAX_K = 100
NEEDS_PRODUCT = frozenset({"also_bought", "bought_together", "similar"})
VERBS = {"bought": "bought", "product_viewed": "viewed", "product_added": "added"}
#: Why for_you shows an item when no single history item explains it (by blend term).
TERM_REASONS = {
    "trending": "popular right now",
    "affinity": "popular with customers like you",
    REPEAT: "you bought this before",
}
#: Most candidates a placement proposes (as before the rules; the rest never show).
LIMIT = 300

Reason = Callable[[int], str] | str


@dataclass
class Request:
    placement: str
    visitor: Visitor
    product: str | None
    cart: tuple[str, ...]
    k: int


@dataclass(frozen=True)
class Ranked:
    """A placement's proposal as arrays: model items best first, their scores, and the reason
    (one text, or a function of the item called only for the items shown; ``prepare``, if
    given, is told those items first)."""

    items: Any
    scores: Any
    reason: Reason
    prepare: Callable[[list[int]], None] | None = None


Proposal = tuple[str, Ranked | list[Candidate]]


@dataclass(frozen=True)
class _Masks:
    """Per placement and model version: items the rules never show, and score multipliers."""

    allowed: Any
    boost: Any | None


class RecommendationService:
    """Recommendations per placement. Reads only; training writes model files, not rows.

    Args:
        shop: The application.
        rules: Rule overrides per placement (merged over :data:`DEFAULT_RULES`).
        monotonic: Time source of the stock snapshot's TTL (tests move it).
    """

    def __init__(
        self,
        shop: Shopkeeper,
        rules: Mapping[str, RuleConfig] | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shop = shop
        self.rules = {**DEFAULT_RULES, **(rules or {})}
        self.store = models_dir(shop)
        self.stock = StockSnapshot(
            self._read_stock,
            lambda: shop.catalog.revision,
            ttl=shop.settings.recommendations_stock_ttl,
            monotonic=monotonic,
        )
        self._masks: dict[tuple[str, str], _Masks] = {}

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
        config = self.rules[placement]
        with self.shop.db.reading() as reader:
            visitor = Visitor(reader, customer, anonymous_id)
            request = Request(placement, visitor, product, tuple(cart or ()), k)
            strategy, proposal = getattr(self, f"_{placement}")(reader, model, request)
            bought = visitor.purchases if config.exclude_bought else []
        context = RuleContext(
            viewing=product,
            bought=frozenset(sku for sku, _ in bought),
            cart=frozenset(request.cart),
        )
        if isinstance(proposal, Ranked):
            chosen = self._choose(model, placement, proposal, context, k)
        else:
            chosen = self._choose_listed(model, proposal, config, context, k)
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

    # --- the rules, on arrays first -----------------------------------------------------------

    def _choose(
        self, model: ModelVersion, placement: str, proposal: Ranked, context: RuleContext, k: int
    ) -> list[Candidate]:
        """The items to show: vectorised filters, the diversity caps on integer codes, then
        ``apply_rules`` on the few chosen (which checks them again and adds the pins).

        ``apply_rules`` fills the list greedily in score order and pins do not count towards
        the caps, so :func:`_diverse` running the same greedy pass over the survivors (pinned
        skus left out) picks exactly the items it would pick, without a :class:`Candidate`
        per survivor.
        """
        config = self.rules[placement]
        masks = self._masks_for(model, placement, config)
        stock = self.stock.per_item(model)
        items = np.asarray(proposal.items, dtype=np.int64)[:LIMIT]
        scores = np.asarray(proposal.scores, dtype=np.float64)[:LIMIT]
        if masks.boost is not None:
            scores = scores * masks.boost[items]
            order = np.lexsort((items, -scores))
            items, scores = items[order], scores[order]
        keep = masks.allowed[items]
        if config.in_stock_only:
            keep &= stock[items]
        hidden = _indices(model, {context.viewing, *context.cart} - {None})
        if config.exclude_bought and context.bought:
            bought = _indices(model, context.bought)
            hidden = np.concatenate([hidden, bought[~model.consumable[bought]]])
        if hidden.size:
            keep &= ~np.isin(items, hidden)
        items, scores = items[keep], scores[keep]
        pins = [
            _candidate(model, model.index[s], 0.0, "", stock)
            for s in config.pinned
            if s in model.index
        ]
        if pins:
            pinned = _indices(model, config.pinned)
            unpinned = ~np.isin(items, pinned)
            items, scores = items[unpinned], scores[unpinned]
        shown = _diverse(model, items, config, k)
        if proposal.prepare is not None:
            proposal.prepare([int(items[n]) for n in shown])
        pool = [
            _candidate(model, int(items[n]), float(scores[n]), proposal.reason, stock)
            for n in shown
        ]
        return apply_rules(pool, config, context, k=k, pinned=pins)

    def _choose_listed(
        self,
        model: ModelVersion,
        proposal: list[Candidate],
        config: RuleConfig,
        context: RuleContext,
        k: int,
    ) -> list[Candidate]:
        """``apply_rules`` on a short list of candidates (skus the model may not know)."""
        stock = self.stock.per_item(model)
        flags = self.stock.flags()
        pins = [
            _candidate(model, model.index[s], 0.0, "", stock)
            for s in config.pinned
            if s in model.index
        ]
        fresh = [
            c if flags.get(c.sku, c.in_stock) == c.in_stock else replace(c, in_stock=not c.in_stock)
            for c in proposal
        ]
        return apply_rules(fresh, config, context, k=k, pinned=pins)

    def _masks_for(self, model: ModelVersion, placement: str, config: RuleConfig) -> _Masks:
        key = (model.version, placement)
        masks = self._masks.get(key)
        if masks is None:
            allowed = np.ones(len(model.item_ids), dtype=bool)
            excluded = _indices(model, config.excluded_items)
            allowed[excluded] = False
            if config.excluded_categories:
                for item, category in enumerate(model.top_categories):
                    if excluded_category(category, config.excluded_categories):
                        allowed[item] = False
            boost = None
            if config.boosted:
                boost = np.ones(len(model.item_ids))
                for sku, weight in config.boosted.items():
                    if sku in model.index:
                        boost[model.index[sku]] = weight
            if any(v != model.version for v, _ in self._masks):
                self._masks = {}
            masks = self._masks[key] = _Masks(allowed, boost)
        return masks

    def _read_stock(self) -> dict[str, bool]:
        with self.shop.db.sessions() as session:
            return repository.stock_flags(session)

    # --- placements: each returns (strategy, proposal) ----------------------------------------

    def _for_you(self, reader: Reader, model: ModelVersion, request: Request) -> Proposal:
        """The benchmarked ``for_you`` blend (``model.for_you``) on the visitor's purchases and
        this session's views and adds (:mod:`.history`)."""
        visitor = request.visitor
        if not visitor.known:
            return self._trending(reader, model, request)
        blend = model.for_you
        history = visitor_history(model, visitor.purchases, visitor.recent, self.shop.clock.now())
        if blend is None or history.empty:
            return self._bestsellers(model, None)
        query = history.query(blend)
        inner = blend.component_query(query, history.session_row())
        parts = blend.parts(query, inner=inner)
        items, scores = ranked(blend.total(query, parts)[0])
        if not items.size:
            return self._bestsellers(model, None)

        explain = blend.explainer(query, parts, inner=inner)

        def reason(item: int) -> str:
            term, source = explain(item)
            if source is not None:
                return f"because you {VERBS[history.labels[source]]} {model.title(source)}"
            return TERM_REASONS.get(term, "picked for you")

        strategy = "personalised+session" if visitor.recent else "personalised"
        return strategy, Ranked(items, scores, reason, explain.prepare)

    def _cart(self, reader: Reader, model: ModelVersion, request: Request) -> Proposal:
        in_cart = [model.index[s] for s in request.cart if s in model.index]
        viewed = [model.index[s] for s, _, _ in request.visitor.recent if s in model.index]
        parts = [
            (model.scaled[name], items, [weight] * len(items))
            for items, name, weight in (
                (in_cart, "bought_together", 1.0),
                (in_cart, "also_bought", 0.5),
                (viewed[:5], "also_bought", 0.3),
            )
            if items
        ]
        if not parts:
            return self._trending(reader, model, request)
        stacked = [item for _, items, _ in parts for item in items]
        blend = _Blend.of(parts, sources=list(range(len(stacked))))
        if not blend.items.size:
            return self._trending(reader, model, request)
        cart_rows = 2 * len(in_cart)

        def reason(item: int) -> str:
            best = blend.source_of(item)
            source = model.title(stacked[best])
            return (
                f"often bought with {source}"
                if best < cart_rows
                else f"because you viewed {source}"
            )

        strategy = "cart_complements+session" if viewed else "cart_complements"
        return strategy, Ranked(blend.items, blend.scores, reason)

    def _also_bought(self, reader: Reader, model: ModelVersion, request: Request) -> Proposal:
        return self._item_row(reader, model, request, ("also_bought",))

    def _bought_together(self, reader: Reader, model: ModelVersion, request: Request) -> Proposal:
        return self._item_row(reader, model, request, ("bought_together", "also_bought"))

    def _item_row(
        self, reader: Reader, model: ModelVersion, request: Request, sources: tuple[str, ...]
    ) -> Proposal:
        item = model.index.get(str(request.product))
        if item is not None:
            for source in sources:
                items, scores = getattr(model.ranked, source).row(item)
                if items.size:
                    name = model.title(item)
                    text = (
                        f"often bought with {name}"
                        if source == "bought_together"
                        else f"customers who bought {name} also bought this"
                    )
                    strategy = "association" if source == "bought_together" else "also_bought"
                    return strategy, Ranked(items, scores, text)
        return self._similar(reader, model, request)

    def _similar(self, reader: Reader, model: ModelVersion, request: Request) -> Proposal:
        sku = str(request.product)
        item = model.index.get(sku)
        if item is not None:
            items, scores = model.ranked.similar.row(item)
            behaviour = bool(model.ranked.has_also_bought[item])
            strategy = "content+behaviour" if behaviour else "content"
            return strategy, Ranked(items, scores, f"similar to {model.title(item)}")
        facts = repository.product(reader, sku)
        if facts is None:
            return self._trending(reader, model, request)
        content = ItemContent(facts.category_path, facts.brand, facts.price_tier, title=facts.title)
        vector = content_vector(content, model)
        items, scores = ranked(np.asarray((model.features @ vector.T).toarray()).ravel())
        return "content", Ranked(items, scores, f"similar to {facts.title or sku}")

    def _trending(self, reader: Reader, model: ModelVersion, request: Request) -> Proposal:
        visitor = request.visitor
        lists = model.ranked
        viewed = model.index.get(str(request.product))
        if request.placement == "trending" and viewed is not None:
            category = model.top_categories[viewed]
            codes, _ = model.category_codes
            if category and category in codes:
                items, scores = lists.trending_by_category.row(codes[category])
                if items.size:
                    text = f"popular in {category} right now"
                    return "trending_in_category", Ranked(items, scores, text)
        source = visitor.source
        if source in model.sources:
            items, scores = lists.trending_by_source.row(model.sources.index(str(source)))
            if items.size:
                text = f"popular with visitors from {source}"
                return "trending_by_source", Ranked(items, scores, text)
        items, scores = lists.trending.row(0)
        if items.size:
            return "trending", Ranked(items, scores, "popular right now")
        return self._bestsellers(model, None)

    def _bestsellers(self, model: ModelVersion, categories: set[str | None] | None) -> Proposal:
        if categories:
            scores = model.bestsellers.copy()
            mask = model.in_categories(categories)
            if (scores[mask] > 0).any():
                scores[~mask] = 0.0
            items, values = ranked(scores)
        else:
            items, values = model.ranked.bestsellers.row(0)

        def reason(item: int) -> str:
            category = model.top_categories[item]
            return f"bestseller in {category}" if category else "bestseller"

        return "category_bestsellers", Ranked(items, values, reason)

    def _recently_viewed(self, reader: Reader, model: ModelVersion, request: Request) -> Proposal:
        seen: dict[str, None] = {}
        for sku, _, _ in request.visitor.recent:
            seen.setdefault(sku, None)
        out = []
        for rank, sku in enumerate(seen):
            item = model.index.get(sku)
            base = _candidate(model, item, 0.0, "") if item is not None else Candidate(sku, 0.0, "")
            out.append(replace(base, score=1.0 / (rank + 1), reason="you viewed this recently"))
        return "recently_viewed", out

    def _buy_again(self, reader: Reader, model: ModelVersion, request: Request) -> Proposal:
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


@dataclass(frozen=True)
class _Blend:
    """Weighted sum of sparse rows, read straight from their CSR arrays.

    ``entries`` keep, per contributing row, which source it came from, so the reason for an
    item names the source that contributed most (the first one on a tie).
    """

    items: Any
    scores: Any
    columns: Any
    sources: Any
    values: Any
    n_sources: int

    @classmethod
    def of(
        cls, parts: Sequence[tuple[Any, Sequence[int], Sequence[float]]], sources: Sequence[int]
    ) -> _Blend:
        columns: list[Any] = []
        values: list[Any] = []
        origin: list[Any] = []
        position = 0
        for matrix, rows, weights in parts:
            indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
            for row, weight in zip(rows, weights, strict=True):
                start, stop = indptr[row], indptr[row + 1]
                if stop > start:
                    columns.append(indices[start:stop])
                    values.append(weight * data[start:stop])
                    origin.append(np.full(stop - start, sources[position], dtype=np.int64))
                position += 1
        if not columns:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, np.zeros(0), empty, empty, np.zeros(0), 0)
        cols = np.concatenate(columns).astype(np.int64)
        vals = np.concatenate(values)
        src = np.concatenate(origin)
        unique, inverse = np.unique(cols, return_inverse=True)
        sums = np.bincount(inverse, vals)
        positive = (sums > 0) & np.isfinite(sums)
        unique, sums = unique[positive], sums[positive]
        order = np.lexsort((unique, -sums))
        return cls(unique[order], sums[order], cols, src, vals, int(src.max()) + 1)

    def source_of(self, item: int) -> int:
        """The source contributing most to ``item``'s score."""
        hit = self.columns == item
        return int(np.argmax(np.bincount(self.sources[hit], self.values[hit], self.n_sources)))


def _diverse(model: ModelVersion, items: Any, config: RuleConfig, k: int) -> list[int]:
    """Positions in ``items`` (best first) of the first ``k`` that respect the per-category
    and per-brand caps, greedily, as :func:`apply_rules` fills its list."""
    category_cap, brand_cap = config.max_per_category, config.max_per_brand
    if category_cap is None and brand_cap is None:
        return list(range(min(k, len(items))))
    _, category_of = model.category_codes
    no_category = model.category_codes[0].get(None, -1)
    categories = category_of[items].tolist()
    brands = model.brand_codes[items].tolist()
    per_category: dict[int, int] = {}
    per_brand: dict[int, int] = {}
    shown: list[int] = []
    for n, (category, brand) in enumerate(zip(categories, brands, strict=True)):
        has_category = category != no_category
        if (
            category_cap is not None
            and has_category
            and per_category.get(category, 0) >= category_cap
        ):
            continue
        if brand_cap is not None and brand >= 0 and per_brand.get(brand, 0) >= brand_cap:
            continue
        shown.append(n)
        if has_category:
            per_category[category] = per_category.get(category, 0) + 1
        if brand >= 0:
            per_brand[brand] = per_brand.get(brand, 0) + 1
        if len(shown) >= k:
            break
    return shown


def _indices(model: ModelVersion, skus: Any) -> Any:
    """Model items of the given skus (unknown skus left out)."""
    index = model.index
    return np.fromiter((index[s] for s in skus if s in index), dtype=np.int64)


def _candidate(
    model: ModelVersion,
    item: int,
    score: float,
    reason: Reason,
    stock: Any = None,
) -> Candidate:
    """A :class:`Candidate` for a model item; ``reason`` a function becomes its lazy explain."""
    explain = None if isinstance(reason, str) else partial(reason, item)
    return Candidate(
        sku=model.item_ids[item],
        score=score,
        reason=reason if isinstance(reason, str) else "",
        title=model.titles[item],
        category=model.top_categories[item],
        brand=model.brands[item],
        in_stock=bool(stock[item]) if stock is not None else model.in_stock[item],
        consumable=bool(model.consumable[item]),
        explain=explain,
    )
