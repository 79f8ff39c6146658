"""The one application object: settings, store, clock and services, injected everywhere.

It is also the Python API::

    from shopkeeper import Shopkeeper
    shop = Shopkeeper.open()            # settings from the environment
    shop.migrate()
    print(shop.customers.profile("user-42"))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from shopkeeper.clock import Clock, SystemClock
from shopkeeper.db import Database
from shopkeeper.ops.metrics import Metrics
from shopkeeper.settings import Settings

if TYPE_CHECKING:
    from shopkeeper.analytics.service import AnalyticsService
    from shopkeeper.auth.service import KeyService
    from shopkeeper.catalog.service import CatalogService
    from shopkeeper.customers.service import CustomerService
    from shopkeeper.events.service import EventService
    from shopkeeper.identities.service import IdentityGraph
    from shopkeeper.orders.service import OrderService
    from shopkeeper.personas.service import PersonaService
    from shopkeeper.privacy.service import PrivacyService
    from shopkeeper.recommendations.service import RecommendationService
    from shopkeeper.segments.service import SegmentService
    from shopkeeper.triggers.service import TriggerService


@dataclass
class Shopkeeper:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    metrics: Metrics = field(default_factory=Metrics)

    @classmethod
    def open(cls, settings: Settings | None = None, *, clock: Clock | None = None) -> Shopkeeper:
        settings = settings or Settings.from_env()
        return cls(settings=settings, db=Database(settings), clock=clock or SystemClock())

    def migrate(self) -> None:
        self.db.migrate()

    def close(self) -> None:
        self.db.dispose()

    @cached_property
    def keys(self) -> KeyService:
        from shopkeeper.auth.service import KeyService

        return KeyService(self.db, self.clock)

    @cached_property
    def identities(self) -> IdentityGraph:
        from shopkeeper.identities.service import IdentityGraph

        return IdentityGraph(self.settings, self.clock)

    @cached_property
    def events(self) -> EventService:
        from shopkeeper.events.service import EventService

        return EventService(self)

    @cached_property
    def customers(self) -> CustomerService:
        from shopkeeper.customers.service import CustomerService

        return CustomerService(self)

    @cached_property
    def catalog(self) -> CatalogService:
        from shopkeeper.catalog.service import CatalogService

        return CatalogService(self)

    @cached_property
    def orders(self) -> OrderService:
        from shopkeeper.orders.service import OrderService

        return OrderService(self)

    @cached_property
    def privacy(self) -> PrivacyService:
        from shopkeeper.privacy.service import PrivacyService

        return PrivacyService(self)

    @cached_property
    def analytics(self) -> AnalyticsService:
        from shopkeeper.analytics.service import AnalyticsService

        return AnalyticsService(self)

    @cached_property
    def recommendations(self) -> RecommendationService:
        from shopkeeper.recommendations.service import RecommendationService

        return RecommendationService(self)

    @cached_property
    def segments(self) -> SegmentService:
        from shopkeeper.segments.service import SegmentService

        return SegmentService(self)

    @cached_property
    def triggers(self) -> TriggerService:
        from shopkeeper.triggers.service import TriggerService

        return TriggerService(self)

    @cached_property
    def personas(self) -> PersonaService:
        from shopkeeper.personas.service import PersonaService

        return PersonaService(self)
