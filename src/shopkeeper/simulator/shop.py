"""The orchestrator: a seeded, pure generator of Segment-spec events in time order.

Example::

    sim = ShopSimulation(SimulationConfig(customers=200, days=60, seed=7))
    products = sim.products          # catalog dicts for the store
    for event in sim.events():        # Segment HTTP Tracking API dicts, oldest first
        ...
    truth = sim.truth()               # after the walk: personas, preferences, outcomes

Event dicts share read-only parts (``context`` within a session, product ``properties``):
serialise them or copy before mutating. Every call of :meth:`ShopSimulation.events` replays
the same stream from the seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from shopkeeper.simulator.catalog import Catalog, build_catalog
from shopkeeper.simulator.payloads import DayState
from shopkeeper.simulator.personas import PersonaTable
from shopkeeper.simulator.population import Population, build_population
from shopkeeper.simulator.sessions import (
    Calendar,
    build_calendar,
    plan_advocacy,
    plan_sessions,
    plan_store_visits,
)
from shopkeeper.simulator.touchpoints import WebWalker

DAY_MS = 86_400_000


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. ``start`` is a parameter, never the wall clock."""

    customers: int = 1000
    days: int = 365
    seed: int = 0
    start: date = date(2025, 11, 1)
    products: int = 800

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "days": self.days,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "products": self.products,
        }


class ShopSimulation:
    """A simulated shop: catalog, customers with hidden personas, and their event stream."""

    def __init__(self, config: SimulationConfig) -> None:
        if config.customers < 1 or config.days < 1:
            raise ValueError("customers and days must be at least 1")
        self.config = config
        world, self._stream_seed = np.random.SeedSequence(config.seed).spawn(2)
        rng = np.random.default_rng(world)
        self.table = PersonaTable.build()
        self.catalog: Catalog = build_catalog(
            rng, start=config.start, days=config.days, products=config.products
        )
        self.population: Population = build_population(
            rng, self.table, customers=config.customers, days=config.days, start=config.start
        )
        self.calendar: Calendar = build_calendar(config.start, config.days)
        self.outcome: DayState | None = None

    @property
    def products(self) -> list[dict[str, Any]]:
        """The catalog as dicts shaped like ``shopkeeper.catalog.schemas.ProductIn``."""
        return self.catalog.products

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event of the simulated period, in timestamp order, as Segment payload dicts."""
        cfg = self.config
        rng = np.random.default_rng(self._stream_seed)
        pop = self.population
        state = DayState.start(pop, cfg.days)
        self.outcome = state
        walker = WebWalker(pop, self.catalog, self.calendar, state, table=self.table)
        epoch = int(datetime.combine(cfg.start, datetime.min.time(), UTC).timestamp() * 1000)
        counter = 0
        prefix = f"sim-{cfg.seed}-"
        for day in range(cfg.days):
            day_ms = epoch + day * DAY_MS
            walker.begin_day(day, day_ms)
            related = (pop.join_day <= day) & (day < pop.churn_day)
            active = related & ~state.gone
            email_cust, email_start = walker.email_campaign(rng, active)
            plan = plan_sessions(
                rng,
                day=day,
                cal=self.calendar,
                pop=pop,
                table=self.table,
                catalog=self.catalog,
                active=active,
                rate_factor=state.rate_factor,
                email_cust=email_cust,
                email_start=email_start,
                email_campaign=self.calendar.campaigns[day],
            )
            walker.web_sessions(plan)
            walker.store_visits(
                plan_store_visits(
                    rng,
                    day=day,
                    cal=self.calendar,
                    pop=pop,
                    table=self.table,
                    catalog=self.catalog,
                    active=active,
                )
            )
            walker.advocacy(
                plan_advocacy(
                    rng, day=day, pop=pop, catalog=self.catalog, known=related & state.registered
                )
            )
            batch = walker.end_day()
            if not batch:
                continue
            stamps = np.datetime_as_string(
                np.array([item[0] for item in batch], dtype="datetime64[ms]"),
                unit="ms",
                timezone="UTC",
            ).tolist()
            for (_, _, payload), stamp in zip(batch, stamps, strict=True):
                payload["messageId"] = prefix + str(counter)
                payload["timestamp"] = stamp
                counter += 1
                yield payload

    def truth(self) -> dict[str, Any]:
        """Ground truth for this simulation (call after :meth:`events` was consumed)."""
        from shopkeeper.simulator.truth import build_truth

        return build_truth(self)


__all__ = ["ShopSimulation", "SimulationConfig"]
