"""Interactive mode: show each simulated visit to a policy and let the visitor respond.

This is how later work proves that personalization pays::

    sim = InteractiveShop(seed=7, customers=300)
    for visit in sim.visits(days=60):
        outcome = sim.respond(visit, my_policy(visit))
    print(sim.report())

or ``sim.run(my_policy, days=60)``. A visit shows only what the shop legitimately knows (ids,
tenure, the traits the customer gave, the context), never the persona. The visitor responds from
its hidden preferences: recommended products that match its categories and price tier raise
clicks and purchases; a salutation it did not give, an over-familiar greeting to a newcomer, or
too many offers lower purchase and return odds. Random numbers are drawn per visit before the
policy is asked, so two policies on the same seed face the same visitors at first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from shopkeeper.simulator.catalog import LEAVES, TIERS
from shopkeeper.simulator.personas import PERSONA_NAMES, SOURCES, draw_cdf
from shopkeeper.simulator.sessions import draw_products
from shopkeeper.simulator.shop import ShopSimulation, SimulationConfig

MAX_RECOMMENDATIONS = 10
FAMILIAR_PHRASES = ("welcome back", "old friend", "again", "missed you", "as always")
NEWCOMER_DAYS = 7
DEAL_SEEKER = PERSONA_NAMES.index("deal_seeker")
ONE_OFF = PERSONA_NAMES.index("one_off")


@dataclass(frozen=True)
class Visitor:
    """Who is visiting, as far as the shop can know it."""

    anonymous_id: str
    customer_id: str | None  # the userId once the customer has an account and is logged in
    tenure_days: int  # since the shop first saw this customer
    visits_before: int
    orders_before: int
    traits: dict[str, Any]  # only traits the customer gave (no salutation unless given)


@dataclass(frozen=True)
class Visit:
    visit_id: int
    timestamp: datetime
    visitor: Visitor
    source: str
    device: str


@dataclass(frozen=True)
class Decision:
    """What a policy shows on a visit."""

    greeting: str | None = None
    salutation_used: str | None = None
    content: str | None = None
    offers: list[str] = field(default_factory=list)
    recommended_skus: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    clicked_skus: list[str]
    purchased: bool
    revenue: float
    will_return: bool


@dataclass
class Report:
    visits: int = 0
    clicks: int = 0
    recommendations: int = 0
    purchases: int = 0
    revenue: float = 0.0
    returning: int = 0
    by_persona: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def click_rate(self) -> float:
        return self.clicks / self.recommendations if self.recommendations else 0.0

    @property
    def conversion(self) -> float:
        return self.purchases / self.visits if self.visits else 0.0

    @property
    def revenue_per_visit(self) -> float:
        return self.revenue / self.visits if self.visits else 0.0


@dataclass
class _Draws:
    customer: int
    base_product: int
    u_base: float
    u_return: float
    u_click: list[float]
    u_buy: list[float]


class InteractiveShop:
    """A simulated shop whose visitors react to what a policy shows them."""

    def __init__(
        self,
        *,
        seed: int = 0,
        customers: int = 500,
        start: date = date(2025, 11, 1),
        products: int = 800,
    ) -> None:
        self.seed, self.customers, self.start, self.products = seed, customers, start, products
        self._report = Report()
        self._pending: tuple[Visit, _Draws] | None = None
        self.world: ShopSimulation | None = None

    def visits(self, days: int) -> Iterator[Visit]:
        """Yield visits in time order; answer each with :meth:`respond` (unanswered visits
        count as a policy that showed nothing)."""
        sim = ShopSimulation(
            SimulationConfig(self.customers, days, self.seed, self.start, self.products)
        )
        self.world = sim
        pop, t, cal = sim.population, sim.table, sim.calendar
        n = len(pop)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(3)[2])
        self._rate = np.ones(n)
        self._seen = np.zeros(n, dtype=np.int64)
        self._orders = np.zeros(n, dtype=np.int64)
        self._registered = pop.registered.copy()
        self._offers: list[deque[bool]] = [deque(maxlen=4) for _ in range(n)]
        self._sku_index = {sku: i for i, sku in enumerate(sim.catalog.skus)}
        p_cart = 1 - (1 - t.p_add) * np.exp(-t.views_mean * t.p_add)
        self._p_base = p_cart * t.p_buy
        epoch = datetime.combine(self.start, datetime.min.time(), UTC)
        visit_id = 0
        for day in range(days):
            active = (pop.join_day <= day) & (day < pop.churn_day)
            season = np.where(cal.gift_season[day], t.gift_season, t.off_season)[pop.persona]
            lam = t.visit_rate[pop.persona] * cal.traffic[day] * season * pop.frequency * self._rate
            cust = np.repeat(np.arange(n), rng.poisson(np.where(active, lam, 0.0)))
            k = len(cust)
            hour = draw_cdf(t.hour_cdf[pop.persona[cust]], rng.random(k))
            sec = hour * 3600 + rng.integers(0, 3600, k)
            order = np.argsort(sec, kind="stable")
            cust, sec = cust[order], sec[order]
            source = draw_cdf(t.source_cdf[pop.persona[cust]], rng.random(k))
            slot = (rng.random(k) * pop.n_devices[cust]).astype(np.int64)
            base = draw_products(rng, sim.catalog, pop, day, cust)
            u = rng.random((k, 2 + 2 * MAX_RECOMMENDATIONS))
            for j, c in enumerate(cust.tolist()):
                visit_id += 1
                s = int(slot[j])
                known = bool(self._registered[c])
                visitor = Visitor(
                    anonymous_id=pop.anonymous_ids[c][s],
                    customer_id=pop.user_ids[c] if known else None,
                    tenure_days=day - int(pop.join_day[c]),
                    visits_before=int(self._seen[c]),
                    orders_before=int(self._orders[c]),
                    traits=dict(pop.traits[c]) if known else {},
                )
                visit = Visit(
                    visit_id,
                    epoch + timedelta(days=day, seconds=int(sec[j])),
                    visitor,
                    SOURCES[source[j]],
                    pop.device_types[c][s],
                )
                row = u[j].tolist()
                draws = _Draws(
                    c,
                    int(base[j]),
                    row[0],
                    row[1],
                    row[2 : 2 + MAX_RECOMMENDATIONS],
                    row[2 + MAX_RECOMMENDATIONS :],
                )
                self._pending = (visit, draws)
                yield visit
                if self._pending is not None:
                    self.respond(visit, Decision())

    def respond(self, visit: Visit, decision: Decision) -> Outcome:
        """The visitor's response to ``decision``; accumulated into :meth:`report`."""
        if self._pending is None or self._pending[0] is not visit:
            raise ValueError("respond() must answer the visit just yielded, once")
        _, d = self._pending
        self._pending = None
        assert self.world is not None
        sim, c = self.world, d.customer
        pop, catalog = sim.population, sim.catalog
        care_buy, care_return = self._care(visit, decision, c)
        p_base = float(self._p_base[pop.persona[c]])
        clicked: list[str] = []
        revenue = 0.0
        bought = False
        for k, sku in enumerate(decision.recommended_skus[:MAX_RECOMMENDATIONS]):
            idx = self._sku_index.get(sku)
            if idx is None:
                continue
            a = self.affinity(c, idx)
            if d.u_click[k] < min(0.01 + 0.03 * a, 0.35):
                clicked.append(sku)
                if d.u_buy[k] < min(0.02 + 0.02 * a, 0.25) * care_buy:
                    bought = True
                    revenue += float(catalog.price[idx])
        if d.u_base < p_base * care_buy:
            bought = True
            revenue += float(catalog.price[d.base_product])
        will_return = d.u_return < 0.9 * care_return
        if not will_return:
            self._rate[c] *= 0.6
        self._seen[c] += 1
        self._offers[c].append(bool(decision.offers))
        if bought:
            self._orders[c] += 1
            self._registered[c] = True
            if pop.persona[c] == ONE_OFF:
                self._rate[c] = 0.0
        r = self._report
        r.visits += 1
        r.recommendations += min(len(decision.recommended_skus), MAX_RECOMMENDATIONS)
        r.clicks += len(clicked)
        r.purchases += int(bought)
        r.revenue = round(r.revenue + revenue, 2)
        r.returning += int(will_return)
        stats = r.by_persona.setdefault(
            PERSONA_NAMES[pop.persona[c]], {"visits": 0, "purchases": 0, "revenue": 0.0}
        )
        stats["visits"] += 1
        stats["purchases"] += int(bought)
        stats["revenue"] = round(stats["revenue"] + revenue, 2)
        return Outcome(clicked, bought, round(revenue, 2), will_return)

    def _care(self, visit: Visit, decision: Decision, c: int) -> tuple[float, float]:
        """Multipliers on purchase and return odds for how considerate the visit was."""
        assert self.world is not None
        buy = ret = 1.0
        given = self.world.population.salutations[c]
        if decision.salutation_used is not None and decision.salutation_used != given:
            buy, ret = buy * 0.55, ret * 0.85  # "Dear Sir" to someone who never said so
        greeting = (decision.greeting or "").lower()
        if visit.visitor.tenure_days < NEWCOMER_DAYS and any(
            phrase in greeting for phrase in FAMILIAR_PHRASES
        ):
            buy, ret = buy * 0.7, ret * 0.85
        recent = self._offers[c]
        if len(decision.offers) > 2:
            buy, ret = buy * 0.7, ret * 0.85
        elif decision.offers and len(recent) >= 3 and sum(recent) >= 3:
            buy, ret = buy * 0.8, ret * 0.9  # offer fatigue
        elif decision.offers:
            buy *= 1.3 if self.world.population.persona[c] == DEAL_SEEKER else 1.05
        return buy, ret

    def affinity(self, customer: int, product: int) -> float:
        """How well a product fits a customer's hidden taste (1.0 = an average fit)."""
        assert self.world is not None
        pop, catalog = self.world.population, self.world.catalog
        leaf, tier = int(catalog.leaf[product]), int(catalog.tier[product])
        return float(
            pop.cat_weights[customer, leaf]
            * len(LEAVES)
            * pop.tier_weights[customer, tier]
            * len(TIERS)
        )

    def oracle_recommendations(self, visit: Visit, k: int = 5) -> list[str]:
        """The ``k`` best-fitting products for this visitor, from hidden truth.

        For tests and as an upper-bound baseline only: a real policy cannot know this.
        """
        if self._pending is None or self._pending[0] is not visit or self.world is None:
            raise ValueError("oracle_recommendations() needs the visit just yielded")
        c = self._pending[1].customer
        pop, catalog = self.world.population, self.world.catalog
        fit = pop.cat_weights[c, catalog.leaf] * pop.tier_weights[c, catalog.tier]
        top = np.argsort(-fit, kind="stable")[:k]
        skus = self.world.catalog.skus
        return [skus[i] for i in top.tolist()]

    def run(self, policy: Callable[[Visit], Decision], days: int) -> Report:
        """Show every visit of ``days`` days to ``policy``; return the report."""
        for visit in self.visits(days):
            self.respond(visit, policy(visit))
        return self.report()

    def report(self) -> Report:
        return self._report


__all__ = ["Decision", "InteractiveShop", "Outcome", "Report", "Visit", "Visitor"]
