"""Personas for one shop: features from the store, clusters, cards, stored as a model version.

:meth:`PersonaService.fit` loads orders and events into the analytics engine, computes the
feature table (:mod:`shopkeeper.personas.features`), clusters the customers with enough data
to show a habit (``min_sessions`` web sessions; fewer sessions make every share noise), then
assigns every other active customer to the nearest persona. The result is a new
:class:`~shopkeeper.models.PersonaModel` that becomes current, and one ``customer_personas``
row per customer, which the segment rule field ``persona`` reads (batch: the
``customer_id, persona`` table of :meth:`PersonaService.personas_table`; real time:
:meth:`PersonaService.persona_of`). The service never commits.

Measured on the simulator (``tests/personas/test_acceptance.py``; BENCHMARKS.md, Personas):
with the default fit, clustering customers with at least 5 sessions recovers the planted
personas with an adjusted Rand index of 0.8 or more on 13 of 16 simulated shops (mean 0.84);
customers with one or two sessions carry too little behaviour to tell a one-off buyer from a
window shopper, and are assigned, not fitted (ARI about 0.4-0.6 over every customer with a
session).
"""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopkeeper.analytics import engine
from shopkeeper.customers.repository import find_customer
from shopkeeper.errors import Invalid, NotFound, Unavailable
from shopkeeper.models import Order, PersonaModel
from shopkeeper.personas import repository
from shopkeeper.personas.cards import PersonaCard, describe_clusters
from shopkeeper.personas.clustering import Clustering, ClusteringConfig, fit_clusters
from shopkeeper.personas.features import (
    Feature,
    all_features,
    defined_values,
    feature_table,
    top_categories,
)
from shopkeeper.personas.options import STEPS, FitOptions, Progress
from shopkeeper.personas.schemas import (
    MembersOut,
    PersonaModelOut,
    PersonaOut,
    SavedSegment,
    TraitOut,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from shopkeeper.application import Shopkeeper

CATEGORY_FEATURES = 8
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}


@dataclass(frozen=True)
class FeatureMatrix:
    """Feature values of every active customer (rows aligned with ``customer_ids``)."""

    customer_ids: list[str]
    features: tuple[Feature, ...]
    values: np.ndarray  # raw units
    categories: tuple[str, ...]

    def column(self, name: str) -> np.ndarray:
        return np.asarray(self.values[:, [f.name for f in self.features].index(name)])

    def clustering_input(self) -> np.ndarray:
        """``log1p`` on counts and money, raw shares: the space clusters are found in.

        A per-order measure (AOV, coupon share...) of a customer without orders is undefined:
        it takes the buyers' median instead of its placeholder 0, which would otherwise set
        non-buyers apart on four axes at once and split every persona into buyers and not.
        """
        values = defined_values(self.values, self.features)
        cols = []
        for j, f in enumerate(self.features):
            col = values[:, j]
            undefined = np.isnan(col)
            if undefined.any():  # no buyer at all: the placeholder 0 stays
                fill = 0.0 if undefined.all() else np.median(col[~undefined])
                col = np.where(undefined, fill, col)
            cols.append(np.log1p(np.maximum(col, 0)) if f.log else col)
        return np.column_stack(cols)


class PersonaService:
    """Cluster analysis and persona cards for one shop. Never commits."""

    def __init__(self, shop: Shopkeeper) -> None:
        self.shop = shop

    def features(self, session: Session) -> FeatureMatrix:
        """Every active customer's behavioural features, computed in the analytics engine."""
        con = engine.connect(self.shop.settings)
        try:
            repository.load(session.connection(), con)
            events = con.table("events")
            top = con.to_pyarrow(top_categories(events, CATEGORY_FEATURES))
            categories = tuple(str(c) for c in top.column("top").to_pylist())
            now = self.shop.clock.now()
            table = feature_table(con.table("orders"), events, now, categories)
            arrow = con.to_pyarrow(table.order_by("customer_id"))
        finally:
            con.disconnect()
        features = all_features(categories)
        values = (
            np.column_stack(
                [np.asarray(arrow.column(f.name).to_numpy(), dtype=np.float64) for f in features]
            )
            if arrow.num_rows
            else np.zeros((0, len(features)))
        )
        values = np.nan_to_num(values)
        # Rows in the order of their values, not of the (random) customer ids: k-means ends in
        # a row-order-dependent local optimum, and the same shop must give the same personas.
        order = np.lexsort(values.T[::-1]) if len(values) else np.zeros(0, dtype=np.int64)
        ids = [str(c) for c in arrow.column("customer_id").to_pylist()]
        return FeatureMatrix([ids[i] for i in order], features, values[order], categories)

    def fit(
        self,
        session: Session,
        options: FitOptions,
        on_progress: Progress | None = None,
        *,
        matrix: FeatureMatrix | None = None,
    ) -> PersonaModelOut:
        """Fit a new persona model, make it current and assign every active customer.

        ``matrix`` reuses features already computed by :meth:`features` in this session.

        Raises:
            Invalid: too few customers with enough data for the clusters asked for.
        """
        tick = on_progress or (lambda _step, _done, _total: None)
        tick(STEPS[0], 0, len(STEPS))
        matrix = matrix or self.features(session)
        tick(STEPS[2], 2, len(STEPS))
        sessions = matrix.column("sessions") if len(matrix.customer_ids) else np.zeros(0)
        core = sessions >= options.min_sessions
        needed = max(3 * (options.k or 2), 20)
        if int(core.sum()) < needed:
            raise Invalid(
                f"{int(core.sum())} customers have {options.min_sessions}+ sessions; "
                f"clustering needs at least {needed} (lower min_sessions or collect more data)",
                detail={"field": "min_sessions"},
            )
        config = ClusteringConfig(
            method=options.method,
            k=options.k,
            k_max=options.k_max,
            bootstrap_rounds=options.bootstrap_rounds,
        )
        x = matrix.clustering_input()
        try:
            fitted = fit_clusters(x[core], config, np.random.default_rng(options.seed))
        except ValueError as exc:
            raise Invalid(str(exc), detail={"field": "k"}) from exc
        labels = fitted.predict(x)
        labels[core] = fitted.labels
        tick(STEPS[3], 3, len(STEPS))
        cards = describe_clusters(
            matrix.values[core],
            fitted.labels,
            fitted.k,
            matrix.features,
            currency=self._currency(session),
        )
        tick(STEPS[4], 4, len(STEPS))
        model = repository.add_model(
            session,
            PersonaModel(
                created_at=self.shop.clock.now(),
                method=fitted.method,
                k=fitted.k,
                customers=len(labels),
                silhouette=fitted.silhouette,
                stability=fitted.stability,
                seed=options.seed,
                is_current=False,
                params=_params(fitted, matrix, options, int(core.sum())),
                cards={"personas": [_card_dict(c) for c in cards]},
            ),
        )
        names = [c.name for c in cards]
        repository.make_current(session, model.id)
        repository.add_assignments(
            session,
            [
                {"customer_id": cid, "model_id": model.id, "cluster": int(c), "persona": names[c]}
                for cid, c in zip(matrix.customer_ids, labels.tolist(), strict=True)
            ],
        )
        tick("done", len(STEPS), len(STEPS))
        return model_out(model)

    def current(self, session: Session) -> PersonaModelOut:
        """The current persona model and its cards.

        Raises:
            NotFound: no model was fitted yet.
        """
        return model_out(self._current(session))

    def members(
        self, session: Session, persona_id: int, *, limit: int = 100, offset: int = 0
    ) -> MembersOut:
        """A page of the customer ids holding persona ``persona_id`` of the current model."""
        model = self._current(session)
        name = self._name(model, persona_id)
        total, ids = repository.members(session, model.id, persona_id, limit=limit, offset=offset)
        return MembersOut(model_id=model.id, persona=name, total=total, customers=ids)

    def persona_of(self, session: Session, identifier: str) -> str | None:
        """The current persona of the customer behind ``identifier`` (None: not assigned).

        This is the real-time side of the segment field ``persona``.
        """
        customer = find_customer(session, identifier)
        if customer is None:
            raise NotFound(f"no customer {identifier!r}", detail={"field": "identifier"})
        return repository.persona_of(session, customer.merged_into_id or customer.id)

    def personas_table(self, session: Session) -> pa.Table:
        """``customer_id, persona`` of every assigned customer: the batch side's column."""
        return repository.personas_arrow(session.connection())

    def segment_rule(self, session: Session, persona_id: int) -> SavedSegment:
        """The segment rule that selects persona ``persona_id`` of the current model."""
        name = self._name(self._current(session), persona_id)
        return SavedSegment(name=name, rule={"field": "persona", "op": "=", "value": name})

    def save_segment(
        self, session: Session, persona_id: int, name: str | None = None
    ) -> SavedSegment:
        """Store persona ``persona_id`` as a segment (``persona = "<name>"``).

        Raises:
            Unavailable: this build has no segment storage (``shopkeeper.segments.service``).
        """
        model = self._current(session)
        rule = self.segment_rule(session, persona_id)
        try:
            segments: Any = importlib.import_module("shopkeeper.segments.service")
        except ModuleNotFoundError as exc:
            raise Unavailable(
                "segment storage is not part of this build (shopkeeper.segments.service is "
                f"missing); the persona's rule is {rule.rule}",
                detail={"field": "segments"},
            ) from exc
        card = next(p for p in model.cards["personas"] if p["id"] == persona_id)
        service = getattr(self.shop, "segments", None) or segments.SegmentService(self.shop)
        service.create(
            session, name or rule.name, rule.rule, description=card["text"], kind="persona"
        )
        return SavedSegment(name=name or rule.name, rule=rule.rule)

    def _current(self, session: Session) -> PersonaModel:
        model = repository.current_model(session)
        if model is None:
            raise NotFound(
                "no persona model yet: run `shopkeeper personas` or POST /v1/personas/fit"
            )
        return model

    @staticmethod
    def _name(model: PersonaModel, persona_id: int) -> str:
        for card in model.cards["personas"]:
            if card["id"] == persona_id:
                return str(card["name"])
        raise NotFound(f"model {model.id} has no persona {persona_id}", detail={"field": "id"})

    def _currency(self, session: Session) -> str:
        rows = session.execute(select(Order.currency, func.count()).group_by(Order.currency)).all()
        counts = Counter({str(c): int(n) for c, n in rows if c})
        if not counts:
            return ""
        code = counts.most_common(1)[0][0]
        return CURRENCY_SYMBOLS.get(code, f"{code} ")


def _params(
    fitted: Clustering, matrix: FeatureMatrix, options: FitOptions, fitted_on: int
) -> dict[str, Any]:
    return {
        "features": [f.name for f in matrix.features],
        "categories": list(matrix.categories),
        "scaler_mean": fitted.scaler.mean.tolist(),
        "scaler_scale": fitted.scaler.scale.tolist(),
        "feature_weights": None
        if fitted.scaler.weight is None
        else [round(float(w), 4) for w in fitted.scaler.weight],
        "centroids": fitted.centroids.tolist(),
        "variances": None if fitted.variances is None else fitted.variances.tolist(),
        "weights": None if fitted.weights is None else fitted.weights.tolist(),
        "k_scores": {str(k): v for k, v in fitted.k_scores.items()},
        "stability_rounds": list(fitted.stability_rounds),
        "min_sessions": options.min_sessions,
        "fitted_on": fitted_on,
    }


def _card_dict(card: PersonaCard) -> dict[str, Any]:
    return PersonaOut(
        id=card.cluster,
        name=card.name,
        size=card.size,
        share=card.share,
        revenue_per_customer=card.revenue_per_customer,
        revenue_share=card.revenue_share,
        text=card.text,
        traits=[
            TraitOut(
                feature=t.feature, value=t.value, population=t.population, z=t.z, phrase=t.phrase
            )
            for t in card.traits
        ],
        means=card.means,
    ).model_dump(mode="json")


def model_out(model: PersonaModel) -> PersonaModelOut:
    params = model.params
    return PersonaModelOut(
        id=model.id,
        created_at=model.created_at,
        method=model.method,
        k=model.k,
        customers=model.customers,
        fitted_on=int(params.get("fitted_on", model.customers)),
        min_sessions=int(params.get("min_sessions", 0)),
        silhouette=model.silhouette,
        stability=model.stability,
        k_scores={str(k): float(v) for k, v in params.get("k_scores", {}).items()},
        seed=model.seed,
        features=list(params.get("features", [])),
        feature_weights=dict(
            zip(params.get("features", []), params.get("feature_weights") or [], strict=False)
        ),
        personas=[PersonaOut.model_validate(p) for p in model.cards.get("personas", [])],
    )
