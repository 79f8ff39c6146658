"""``train(shop)``: build every placement's model from the store and swap it in atomically.

What a version holds (see :class:`~shopkeeper.recommendations.versions.ModelVersion`):

* trending — purchases, adds and views, each weighted ``2 ** (-age / half_life)`` from the
  training clock, overall and per traffic source (the cold-start list for a new visitor);
* also_bought — item-item cosine over customers' purchases (``recsys.cooccurrence``);
* bought_together — basket association: cosine ``C_ij / sqrt(n_i · n_j)`` over shared baskets,
  kept where lift > 1 and support ≥ ``min_support``, so popular items do not pair with everything;
* for_you — the fitted ``for_you`` blend (:func:`shopkeeper.recsys.for_you.for_you_blend`, the
  configuration the benchmarks measure) as its state: EASE weights, content vectors, adoption
  trending, group-affinity shares and repeat propensities — item-level arrays only;
* similar — content TF-IDF vectors, with the vocabulary so a new product is placed later;
* buy_again — median days between a customer's repeat purchases of an item.

Everything is computed from the store as it is now: after an erasure the person's events and
identities are gone and their orders unlinked, so the next version holds nothing of theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp

from shopkeeper.recommendations import repository
from shopkeeper.recommendations.repository import ProductEvent, Purchase
from shopkeeper.recommendations.versions import ModelStore, ModelVersion
from shopkeeper.recsys.baskets import association, basket_matrix
from shopkeeper.recsys.content import ContentConfig, ItemContent
from shopkeeper.recsys.cooccurrence import CooccurrenceConfig, ItemKNN
from shopkeeper.recsys.for_you import ForYouConfig, for_you_blend
from shopkeeper.recsys.interactions import FloatArray, Interactions

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

__all__ = [
    "STAGES",
    "TrainingConfig",
    "content_vector",
    "item_catalogue",
    "purchase_interactions",
    "train",
]

#: The named steps of a training run, in order (the CLI's progress bar counts them).
STAGES = ("read", "trending", "also_bought", "bought_together", "for_you", "content", "save")
EVENT_WEIGHTS = {"purchase": 1.0, "product_added": 0.5, "product_viewed": 0.1}


@dataclass(frozen=True)
class TrainingConfig:
    """Attributes:
    trending_half_life_days: Decay of trending.
    neighbours: Entries kept per item row of the item-item matrices.
    min_support: Fewest shared baskets for a bought-together pair.
    for_you: The ``for_you`` blend's configuration (the one the benchmarks measure).
    """

    trending_half_life_days: float = 7.0
    neighbours: int = 50
    min_support: int = 2
    for_you: ForYouConfig = field(default_factory=ForYouConfig)


def models_dir(shop: Shopkeeper) -> ModelStore:
    """The version store under ``<data_dir>/models``."""
    return ModelStore(shop.settings.data_dir / "models")


def train(
    shop: Shopkeeper,
    config: TrainingConfig | None = None,
    *,
    on_stage: Callable[[str], None] | None = None,
) -> ModelVersion:
    """Build a new version from the store and make it current.

    Args:
        shop: The application (store, clock, settings).
        config: Knobs; defaults suit a shop of thousands of products.
        on_stage: Called with each name of :data:`STAGES` as it starts (progress bars,
            tests that read the served version mid-training).
    """
    cfg = config or TrainingConfig()
    stage = on_stage or (lambda _name: None)
    stage("read")
    with shop.db.sessions() as session:
        products = repository.catalog(session)
        bought = repository.purchases(session)
        events = repository.product_events(session)
    now = shop.clock.now().timestamp()
    skus = sorted({p.sku for p in products} | {p.sku for p in bought} | {e.sku for e in events})
    index = {sku: n for n, sku in enumerate(skus)}
    meta = {p.sku: p for p in products}

    stage("trending")
    trending, sources, by_source = _trending(bought, events, index, now, cfg)
    bestsellers = _bestsellers(bought, index)

    stage("also_bought")
    customers = _customer_interactions(bought, skus)
    also_bought = _item_knn(customers, "cosine", cfg)

    stage("bought_together")
    together = _association(bought, index, cfg)

    stage("for_you")
    contents = item_catalogue(products)
    for_you = _for_you(bought, skus, contents, cfg.for_you)

    stage("content")
    weights = dict(ContentConfig().weights)
    features, vocabulary, idf = _content_index(skus, contents, weights)
    rebuy_days, consumable = _rebuy(bought, index)

    stage("save")
    store = models_dir(shop)
    stamp = shop.clock.now().strftime("%Y%m%dT%H%M%SZ")
    model = ModelVersion(
        version=store.next_name(stamp),
        trained_at=shop.clock.now().isoformat(),
        item_ids=tuple(skus),
        titles=tuple(meta[s].title if s in meta else None for s in skus),
        categories=tuple(meta[s].category_path if s in meta else None for s in skus),
        brands=tuple(meta[s].brand if s in meta else None for s in skus),
        in_stock=tuple(bool(meta[s].in_stock) if s in meta else False for s in skus),
        trending=trending,
        bestsellers=bestsellers,
        sources=sources,
        source_trending=by_source,
        also_bought=also_bought,
        bought_together=together,
        for_you_state=for_you,
        for_you_config=cfg.for_you.to_dict(),
        features=features,
        vocabulary=vocabulary,
        idf=idf,
        field_weights=weights,
        rebuy_days=rebuy_days,
        consumable=consumable,
        stats={
            "items": len(skus),
            "customers": customers.shape[0],
            "orders": len({p.order_id for p in bought}),
            "purchase_lines": len(bought),
            "product_events": len(events),
        },
    )
    store.save(model)
    return model


def _trending(
    bought: Sequence[Purchase],
    events: Sequence[ProductEvent],
    index: Mapping[str, int],
    now: float,
    cfg: TrainingConfig,
) -> tuple[FloatArray, tuple[str, ...], FloatArray]:
    items = [index[p.sku] for p in bought] + [index[e.sku] for e in events]
    stamps = [p.placed_at.timestamp() for p in bought] + [e.timestamp.timestamp() for e in events]
    base = [EVENT_WEIGHTS["purchase"]] * len(bought) + [EVENT_WEIGHTS[e.kind] for e in events]
    age_days = np.maximum(now - np.asarray(stamps, dtype=np.float64), 0.0) / 86_400.0
    weight = np.asarray(base, dtype=np.float64) * np.exp2(-age_days / cfg.trending_half_life_days)
    overall = np.bincount(np.asarray(items, dtype=np.int64), weight, minlength=len(index))
    sources = tuple(sorted({e.source for e in events if e.source}))
    by_source = np.zeros((len(sources), len(index)))
    position = {s: n for n, s in enumerate(sources)}
    offset = len(bought)
    for n, event in enumerate(events):
        if event.source:
            by_source[position[event.source], index[event.sku]] += weight[offset + n]
    return overall.astype(np.float64), sources, by_source


def _bestsellers(bought: Sequence[Purchase], index: Mapping[str, int]) -> FloatArray:
    pairs = {(p.customer_id, index[p.sku]) for p in bought}
    items = np.asarray([item for _, item in pairs], dtype=np.int64)
    return np.bincount(items, minlength=len(index)).astype(np.float64)


def _customer_interactions(
    bought: Sequence[Purchase], skus: Sequence[str], *, by_order: bool = False
) -> Interactions:
    """Customers × items from purchases; with ``by_order`` a cell counts distinct orders (as
    the benchmarks' splits do), else purchase lines."""
    if not bought:
        return Interactions.catalogue(skus)
    return Interactions.from_events(
        [p.customer_id for p in bought],
        [p.sku for p in bought],
        [p.placed_at.timestamp() for p in bought],
        baskets=[p.order_id for p in bought] if by_order else None,
        item_catalogue=skus,
    )


def _association(bought: Sequence[Purchase], index: Mapping[str, int], cfg: TrainingConfig) -> Any:
    """Basket association (cosine) where lift exceeds 1 (``recsys.baskets.association``)."""
    baskets = {b: n for n, b in enumerate(sorted({p.order_id for p in bought}))}
    rows = np.fromiter((baskets[p.order_id] for p in bought), np.int64, len(bought))
    cols = np.fromiter((index[p.sku] for p in bought), np.int64, len(bought))
    matrix = basket_matrix(rows, cols, len(index))
    return association(matrix, min_support=cfg.min_support, neighbours=cfg.neighbours)


def _item_knn(
    interactions: Interactions, similarity: Literal["cosine", "bm25"], cfg: TrainingConfig
) -> Any:
    """Pruned item-item similarity; all zeros for a shop without purchases yet."""
    n_items = interactions.shape[1]
    if not interactions.matrix.nnz:
        return sp.csr_matrix((n_items, n_items))
    config = CooccurrenceConfig(similarity, neighbours=cfg.neighbours)
    return ItemKNN(config).fit(interactions).similarity


def item_catalogue(products: Sequence[Any]) -> dict[str, ItemContent]:
    """What the content and affinity models read of each product (rows of
    :func:`~.repository.catalog`)."""
    return {
        p.sku: ItemContent(
            category=p.category_path,
            brand=p.brand,
            price_tier=p.price_tier,
            attributes={str(k): str(v) for k, v in (p.attributes or {}).items()},
            title=p.title,
        )
        for p in products
    }


def purchase_interactions(bought: Sequence[Purchase], skus: Sequence[str]) -> Interactions:
    """Customers × items, a cell counting the distinct orders holding the item (the for_you
    blend's training data, shaped as the benchmarks' splits are)."""
    return _customer_interactions(bought, skus, by_order=True)


def _for_you(
    bought: Sequence[Purchase],
    skus: Sequence[str],
    contents: Mapping[str, ItemContent],
    config: ForYouConfig,
) -> dict[str, Any]:
    """The ``for_you`` blend fitted on purchases, as its state (empty without purchases)."""
    if not bought:
        return {}
    purchases = purchase_interactions(bought, skus)
    blend = for_you_blend(config, contents, len(skus)).fit(purchases)
    return blend.state()


def _content_index(
    skus: Sequence[str], contents: Mapping[str, ItemContent], weights: Mapping[str, float]
) -> tuple[Any, tuple[str, ...], FloatArray]:
    """L2-normalised TF-IDF rows per item, the vocabulary and its idf (as ``recsys.content``)."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for n, sku in enumerate(skus):
        for field_name, token in contents.get(sku, ItemContent()).tokens():
            rows.append(n)
            cols.append(vocabulary.setdefault(token, len(vocabulary)))
            vals.append(float(weights.get(field_name, 1.0)))
    tf = sp.csr_matrix((vals, (rows, cols)), shape=(len(skus), len(vocabulary)))
    tf.sum_duplicates()
    df = np.bincount(tf.indices, minlength=len(vocabulary)).astype(np.float64)
    described = max(int((np.diff(tf.indptr) > 0).sum()), 1)
    idf = np.log1p(described / np.maximum(df, 1.0))
    features = sp.csr_matrix(tf @ sp.diags(idf))
    norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
    features = sp.csr_matrix(sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ features)
    return features, tuple(vocabulary), idf


def content_vector(content: ItemContent, model: ModelVersion) -> Any:
    """A product's content vector in ``model``'s space (a product trained after the fact)."""
    tokens = model.token_index
    weights: dict[int, float] = {}
    for field_name, token in content.tokens():
        column = tokens.get(token)
        if column is not None:
            weights[column] = weights.get(column, 0.0) + model.field_weights.get(field_name, 1.0)
    columns = np.asarray(list(weights), dtype=np.int64)
    values = np.asarray(list(weights.values()), dtype=np.float64) * model.idf[columns]
    norm = float(np.sqrt((values**2).sum()))
    if norm > 0:
        values /= norm
    shape = (1, len(model.vocabulary))
    return sp.csr_matrix((values, (np.zeros(columns.size, np.int64), columns)), shape=shape)


def _rebuy(bought: Sequence[Purchase], index: Mapping[str, int]) -> tuple[FloatArray, Any]:
    """Median days between a customer's repeat purchases per item; re-bought items."""
    days: dict[tuple[str, int], list[float]] = {}
    for p in bought:
        days.setdefault((p.customer_id, index[p.sku]), []).append(p.placed_at.timestamp())
    gaps: dict[int, list[float]] = {}
    buyers = np.zeros(len(index))
    repeaters = np.zeros(len(index))
    for (_, item), stamps in days.items():
        distinct = np.unique(np.asarray(stamps))
        buyers[item] += 1
        if distinct.size > 1:
            repeaters[item] += 1
            gaps.setdefault(item, []).extend((np.diff(distinct) / 86_400.0).tolist())
    rebuy = np.full(len(index), np.nan)
    for item, values in gaps.items():
        rebuy[item] = float(np.median(values))
    consumable = (repeaters > 0) & (repeaters >= 0.2 * np.maximum(buyers, 1))
    return rebuy, consumable
