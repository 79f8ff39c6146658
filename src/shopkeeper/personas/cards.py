"""Persona cards: each cluster in words, from the features that set it apart.

For every cluster and feature the card computes the *standardised difference*
``d = (cluster mean - population mean) / population standard deviation`` (on the scale the
clustering saw: ``log1p`` for counts and money). The features with the largest ``|d|`` are the
cluster's traits, rendered with their numbers ("71% of their orders use a coupon").

The name comes from :data:`NAMING_RULES`, a table of behaviours and thresholds on ``d`` — never
from anything but the data: a cluster whose coupon share stands 0.8 standard deviations above
the shop's is a candidate for "Deal seekers", with that ``d`` as its score. Rules are ordered
most specific first (a coupon habit says more than a budget tier, gift categories more than
a busy December); each rule names the unnamed cluster it fits best, so two clusters never share
a name, and a cluster no rule fits is "Everyday shoppers".

Pure numpy: no web or database imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shopkeeper.personas.features import Feature, defined_values

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: A trait must stand this many standard deviations from the population to be named.
TRAIT_MIN_Z = 0.5
FALLBACK_NAME = "Everyday shoppers"


@dataclass(frozen=True)
class Condition:
    """``direction * d(feature) >= min_z`` for the first of ``features`` that exists."""

    features: tuple[str, ...]
    direction: int
    min_z: float


@dataclass(frozen=True)
class NamingRule:
    """A persona name and the behaviour that earns it.

    The score is the signed ``d`` of the first condition (the defining behaviour, the best of
    its alternative features); every further condition only has to hold.
    """

    name: str
    conditions: tuple[Condition, ...]


def _rule(name: str, *conditions: tuple[tuple[str, ...] | str, int, float]) -> NamingRule:
    return NamingRule(
        name,
        tuple(
            Condition((f,) if isinstance(f, str) else f, direction, z)
            for f, direction, z in conditions
        ),
    )


KIDS = ("category.kids", "category.baby", "category.toddler", "category.children")
GIFTS = ("category.gifts", "category.gift")

NAMING_RULES: tuple[NamingRule, ...] = (
    _rule("Deal seekers", ("coupon_share", 1, 0.8)),
    _rule("Premium loyalists", ("premium_share", 1, 0.8), ("orders", 1, 0.3)),
    _rule("Premium shoppers", ("premium_share", 1, 0.8)),
    _rule("Parents shopping for kids", (KIDS, 1, 0.8)),
    _rule("Seasonal gift buyers", (GIFTS, 1, 0.8)),
    _rule("Window shoppers", ("views_per_session", 1, 0.8), ("conversion", -1, 0.3)),
    _rule("One-off buyers", ("sessions", -1, 0.8), ("conversion", 1, 0.3)),
    _rule("Lapsing regulars", ("recency_days", 1, 0.8), ("orders", 1, -0.3)),
    _rule("Store regulars", ("store_share", 1, 0.8)),
    _rule("Newcomers", ("tenure_days", -1, 0.8)),
    _rule("Budget shoppers", ("budget_share", 1, 0.8)),
    _rule("Newsletter readers", (("email_share", "email_opens"), 1, 0.8)),
    _rule("Seasonal shoppers", (("season_share", "peak_month_share"), 1, 0.8)),
    _rule("Big spenders", ("revenue", 1, 0.8)),
    _rule("Night owls", ("evening_share", 1, 0.8)),
)


@dataclass(frozen=True)
class Trait:
    """One distinguishing feature of a cluster, with its words."""

    feature: str
    value: float
    population: float
    z: float
    phrase: str


@dataclass(frozen=True)
class PersonaCard:
    """A cluster as a persona: name, size, value, traits and the sentence that sums it up.

    Attributes:
        cluster: Cluster number in the model (0 = largest).
        name: Persona name (unique within the model).
        size: Customers in the cluster.
        share: ``size`` over all clustered customers.
        revenue_per_customer: Mean revenue of its customers.
        revenue_share: Its share of the clustered customers' revenue.
        traits: Distinguishing features, strongest first.
        text: The card in one line.
        means: Every feature's cluster mean (raw units), for tables and charts.
    """

    cluster: int
    name: str
    size: int
    share: float
    revenue_per_customer: float
    revenue_share: float
    traits: tuple[Trait, ...]
    text: str
    means: dict[str, float]


def standardized_differences(x: FloatArray, labels: IntArray, k: int) -> FloatArray:
    """``k x features`` matrix of ``(cluster mean - mean) / sd`` (0 where sd is 0); NaN values
    (undefined: :func:`~shopkeeper.personas.features.defined_values`) are left out of means."""
    mean = _nanmean(x)
    sd = np.sqrt(_nanmean((x - mean) ** 2))
    sd = np.where(sd > 1e-12, sd, np.inf)
    out = np.zeros((k, x.shape[1]))
    for c in range(k):
        rows = x[labels == c]
        if len(rows):
            out[c] = np.nan_to_num((_nanmean(rows) - mean) / sd)
    return out


def _nanmean(x: FloatArray) -> FloatArray:
    """Column means ignoring NaN; 0 for a column with no defined value."""
    counts = (~np.isnan(x)).sum(axis=0)
    return np.asarray(np.nansum(x, axis=0) / np.maximum(counts, 1), dtype=np.float64)


def fmt(value: float, unit: str, currency: str) -> str:
    """A feature value in words: ``71%``, ``€34``, ``4.2``, ``35 days``."""
    if unit == "share":
        return f"{value:.0%}"
    if unit == "money":
        return f"{currency}{value:,.0f}"
    if unit == "days":
        return f"{value:,.0f} days"
    return f"{value:.1f}" if abs(value) < 10 else f"{value:,.0f}"


def describe_clusters(
    x: FloatArray,
    labels: IntArray,
    k: int,
    features: Sequence[Feature],
    *,
    currency: str = "",
    top: int = 4,
) -> list[PersonaCard]:
    """One card per cluster, in cluster order.

    Args:
        x: Raw feature values (customers x features, in the order of ``features``).
        labels: Cluster of each customer, 0..k-1.
        k: Number of clusters.
        features: Feature definitions (units, log flag, phrases).
        currency: Symbol or code put before money values.
        top: Most traits per card.
    """
    names = [f.name for f in features]
    revenue = x[:, names.index("revenue")] if "revenue" in names else np.zeros(len(x))
    x = defined_values(x, features)
    scaled = np.column_stack(
        [np.log1p(np.maximum(x[:, j], 0)) if f.log else x[:, j] for j, f in enumerate(features)]
    )
    d = standardized_differences(scaled, labels, k)
    population = _nanmean(x)
    aov_at = names.index("aov") if "aov" in names else None
    total_revenue = float(revenue.sum()) or 1.0
    persona_names = assign_names(d, names)
    cards = []
    for c in range(k):
        members = labels == c
        size = int(members.sum())
        means = _nanmean(x[members]) if size else np.zeros(len(names))
        order = np.argsort(-np.abs(d[c]), kind="stable")
        traits = []
        for j in order[:top]:
            if abs(d[c, j]) < TRAIT_MIN_Z:
                break
            f = features[j]
            template = f.high if d[c, j] > 0 else f.low
            phrase = template.format(v=fmt(float(means[j]), f.unit, currency))
            traits.append(
                Trait(f.name, float(means[j]), float(population[j]), float(d[c, j]), phrase)
            )
        share = size / max(len(labels), 1)
        words = [f"{persona_names[c]} — {share:.0%} of customers", *(t.phrase for t in traits)]
        if aov_at is not None and all(t.feature != "aov" for t in traits):
            words.append(f"AOV {fmt(float(means[aov_at]), 'money', currency)}")
        cards.append(
            PersonaCard(
                cluster=c,
                name=persona_names[c],
                size=size,
                share=share,
                revenue_per_customer=float(revenue[members].mean()) if size else 0.0,
                revenue_share=float(revenue[members].sum()) / total_revenue,
                traits=tuple(traits),
                text=", ".join(words),
                means={n: float(v) for n, v in zip(names, means, strict=True)},
            )
        )
    return cards


def assign_names(
    d: FloatArray, names: Sequence[str], rules: Sequence[NamingRule] = NAMING_RULES
) -> list[str]:
    """A unique persona name per cluster (row of ``d``): rules in order, each to its best fit."""
    column = {n: j for j, n in enumerate(names)}
    chosen: dict[int, str] = {}
    taken: set[str] = set()
    for rule in rules:
        scores = [(_score(d[c], rule, column), c) for c in range(d.shape[0]) if c not in chosen]
        passing = [(score, c) for score, c in scores if score is not None]
        if passing:
            _, best = max(passing, key=lambda sc: (sc[0], -sc[1]))
            chosen[best] = rule.name
            taken.add(rule.name)
    out = []
    spare = 1
    for c in range(d.shape[0]):
        name = chosen.get(c)
        if name is None:
            name = FALLBACK_NAME if FALLBACK_NAME not in taken else f"{FALLBACK_NAME} {spare + 1}"
            spare += FALLBACK_NAME in taken
            taken.add(name)
        out.append(name)
    return out


def _score(row: FloatArray, rule: NamingRule, column: dict[str, int]) -> float | None:
    score: float | None = None
    for i, cond in enumerate(rule.conditions):
        present = [column[f] for f in cond.features if f in column]
        if not present:
            return None
        value = max(cond.direction * float(row[j]) for j in present)
        if value < cond.min_z:
            return None
        if i == 0:
            score = value
    return score


__all__ = [
    "FALLBACK_NAME",
    "NAMING_RULES",
    "NamingRule",
    "PersonaCard",
    "Trait",
    "assign_names",
    "describe_clusters",
    "standardized_differences",
]
