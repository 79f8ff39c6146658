"""Customer 360 (read side) and consent: what to load for a profile, and consent changes.

The meaning of the loaded rows (completed orders, visits, given traits) lives in ``profile.py``.

This is also the Python API (``shop.customers.profile("user-42")``). Each public method is a
unit of work: it opens a transaction unless the caller passes ``session=`` to compose it into
its own, and it never commits a session it was given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from shopkeeper.customers import repository
from shopkeeper.customers.affinities import AffinityConfig, compute_affinities
from shopkeeper.customers.profile import (
    ACTIONS,
    COMPLETED,
    EVENT_WINDOW,
    PURCHASED,
    TOP_PLACES,
    activity_of,
    consent_in_force,
    interaction,
    recent_of,
    traffic_of,
    traits_of,
)
from shopkeeper.customers.repository import CustomerFacts
from shopkeeper.customers.schemas import (
    CONSENT_PURPOSES,
    Activity,
    AffinitiesOut,
    Channels,
    ConsentHistory,
    ConsentOut,
    ConsentRecord,
    ConsentState,
    ConsentUpdate,
    EventOut,
    EventPage,
    IdentityOut,
    Location,
    Profile,
    Share,
    TrafficSource,
)
from shopkeeper.customers.tenure import TenureFacts, TenureRules, tenure_of
from shopkeeper.db import ReadSource
from shopkeeper.errors import Invalid, NotFound
from shopkeeper.models import Consent, Customer

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper


class CustomerService:
    """Profiles, events and consent of customers, looked up by any of their identifiers."""

    def __init__(
        self,
        shop: Shopkeeper,
        *,
        tenure_rules: TenureRules | None = None,
        affinity_config: AffinityConfig | None = None,
    ) -> None:
        self.db = shop.db
        self.clock = shop.clock
        self.settings = shop.settings
        self.tenure_rules = tenure_rules or TenureRules()
        self.affinity_config = affinity_config or AffinityConfig()

    @contextmanager
    def _unit(self, session: Session | None) -> Iterator[Session]:
        if session is not None:
            yield session
        else:
            with self.db.transaction() as own:
                yield own

    @contextmanager
    def _read(self, session: Session | None) -> Iterator[Session]:
        """A read-only unit: on SQLite it takes no write lock, so reads never queue behind
        ingest's commits."""
        if session is not None:
            yield session
        else:
            with self.db.sessions() as own:
                yield own

    def get(self, session: Session, identifier: str) -> Customer:
        """The live customer behind any identifier, or :class:`NotFound` naming it."""
        customer = repository.find_customer(session, identifier)
        if customer is None:
            raise NotFound(f"no customer {identifier!r}", detail={"id": identifier})
        return customer

    # --- profile ------------------------------------------------------------------------

    def profile(self, identifier: str, *, session: Session | None = None) -> Profile:
        """The 360° profile of the customer behind ``identifier`` (customer id, userId,
        anonymousId or e-mail). Events come from every identity of the customer and of the
        profiles merged into it; only the newest :data:`EVENT_WINDOW` are read."""
        if session is not None:
            return self._profile(session, self.get(session, identifier))
        # the hot path: plain reads on a reader, no session or ORM objects
        with self.db.reading() as reader:
            customer = repository.customer_facts(reader, identifier)
            if customer is None:
                raise NotFound(f"no customer {identifier!r}", detail={"id": identifier})
            return self._profile(reader, customer)

    def _profile(self, s: ReadSource, customer: Customer | CustomerFacts) -> Profile:
        now = self.clock.now()
        merged = repository.merged_into(s, customer.id)
        ids = [customer.id, *merged]
        identities = repository.identities_of_all(s, ids)
        user_ids = [i.value for i in identities if i.kind == "user_id"]
        anonymous_ids = [i.value for i in identities if i.kind == "anonymous_id"]
        events = repository.profile_events(s, user_ids, anonymous_ids, EVENT_WINDOW)
        orders = repository.orders_of(s, ids)
        lines = repository.lines_of(s, [o.id for o in orders if o.status in PURCHASED])
        skus = [e.sku for e in events if e.sku and e.kind in ACTIONS] + [ln.sku for ln in lines]
        products = repository.products_by_sku(s, skus)

        placed = {o.id: o.placed_at for o in orders}
        interactions = [
            interaction(e.timestamp, ACTIONS[e.kind], products.get(e.sku))
            for e in events
            if e.kind in ACTIONS and e.sku
        ] + [
            interaction(placed[ln.order_id], "purchase", products.get(ln.sku))
            for ln in lines
            if ln.is_product
        ]
        affinities = compute_affinities(interactions, now, self.affinity_config)
        activity, sessions = activity_of(customer, events, orders)
        sessions_started = [s.start for s in sessions]
        tenure = tenure_of(
            self._tenure_facts(activity, sessions_started, orders, now), now, self.tenure_rules
        )

        return Profile(
            id=customer.id,
            identities=[
                IdentityOut(kind=i.kind, value=i.value, first_seen=i.created_at) for i in identities
            ],
            merged_from=merged,
            traits=traits_of(customer),
            consent=consent_in_force(repository.consents_of(s, ids)),
            tenure=tenure,
            activity=activity,
            affinities=AffinitiesOut(
                **{
                    dim: [Share(value=v, share=round(x, 6)) for v, x in getattr(affinities, dim)]
                    for dim in ("categories", "category_paths", "brands", "price_tiers")
                }
            ),
            recent=recent_of(events, products),
            channels=Channels(
                orders=dict(Counter(o.channel for o in orders if o.status in COMPLETED)),
                events=dict(Counter(e.channel for e in events if e.channel)),
            ),
            devices=dict(Counter(e.device_type for e in events if e.device_type)),
            locations=[
                Location(country=country, city=city, count=n)
                for (country, city), n in Counter(
                    (e.country, e.city) for e in events if e.country or e.city
                ).most_common(TOP_PLACES)
            ],
            traffic_sources=[
                TrafficSource(source=source, medium=medium, count=n)
                for (source, medium), n in Counter(
                    (e.source, e.medium) for e in events if e.source
                ).most_common(TOP_PLACES)
            ],
            traffic=traffic_of(sessions),
        )

    def _tenure_facts(
        self,
        activity: Activity,
        starts: Sequence[datetime],
        orders: Sequence[repository.OrderFacts],
        now: datetime,
    ) -> TenureFacts:
        window_start = now - timedelta(days=self.tenure_rules.regular_window_days)
        completed = [o for o in orders if o.status in COMPLETED]
        current = max(starts) if starts else None
        return TenureFacts(
            first_seen=activity.first_seen,
            sessions=len(starts),
            recent_sessions=sum(1 for start in starts if start >= window_start),
            recent_orders=sum(1 for o in completed if o.placed_at >= window_start),
            orders_before_current_session=sum(
                1 for o in completed if current is None or o.placed_at < current
            ),
        )

    # --- events -------------------------------------------------------------------------

    def events(
        self,
        identifier: str,
        *,
        limit: int = 50,
        before: str | None = None,
        session: Session | None = None,
    ) -> EventPage:
        """One page of the customer's events, newest first.

        Args:
            limit: Page size, 1 to 500.
            before: An ISO-8601 time (events strictly older) or the ``next_before`` cursor of
                the previous page, which also pages correctly through events sharing a time.
        """
        if not 1 <= limit <= 500:
            raise Invalid("limit must be between 1 and 500", detail={"field": "limit"})
        at, event_id = parse_cursor(before) if before else (None, None)
        with self._read(session) as s:
            customer = self.get(s, identifier)
            ids = [customer.id, *repository.merged_into(s, customer.id)]
            identities = repository.identities_of_all(s, ids)
            rows = repository.events_page(
                s,
                [i.value for i in identities if i.kind == "user_id"],
                [i.value for i in identities if i.kind == "anonymous_id"],
                limit=limit + 1,
                before=at,
                before_id=event_id,
            )
            page = [EventOut.model_validate(e, from_attributes=True) for e in rows[:limit]]
        last = page[-1] if len(rows) > limit else None
        return EventPage(
            customer_id=customer.id,
            events=page,
            next_before=f"{_iso(last.timestamp)}~{last.id}" if last else None,
        )

    # --- consent ------------------------------------------------------------------------

    def consent(self, identifier: str, *, session: Session | None = None) -> ConsentOut:
        """The consent in force per purpose (unknown purposes have ``granted`` null)."""
        with self._read(session) as s:
            customer = self.get(s, identifier)
            ids = [customer.id, *repository.merged_into(s, customer.id)]
            state = consent_in_force(repository.consents_of(s, ids))
            return ConsentOut(customer_id=customer.id, consent=state, changed=[])

    def set_consent(
        self, identifier: str, update: ConsentUpdate, *, session: Session | None = None
    ) -> ConsentOut:
        """Record consent changes. A history row is appended only for a purpose whose value
        differs from the one in force, so repeating a request changes nothing."""
        unknown = sorted(set(update.purposes) - set(CONSENT_PURPOSES))
        if unknown:
            raise Invalid(
                f"unknown consent purpose {unknown[0]!r}: use {', '.join(CONSENT_PURPOSES)}",
                detail={"field": f"purposes.{unknown[0]}"},
            )
        now = self.clock.now()
        with self._unit(session) as s:
            customer = self.get(s, identifier)
            ids = [customer.id, *repository.merged_into(s, customer.id)]
            state = consent_in_force(repository.consents_of(s, ids))
            changed = []
            for purpose, granted in update.purposes.items():
                if state[purpose].granted is granted:
                    continue
                s.add(
                    Consent(
                        customer_id=customer.id,
                        purpose=purpose,
                        granted=granted,
                        source=update.source,
                        recorded_at=now,
                    )
                )
                state[purpose] = ConsentState(
                    granted=granted, source=update.source, recorded_at=now
                )
                changed.append(purpose)
            s.flush()
            return ConsentOut(customer_id=customer.id, consent=state, changed=changed)

    def consent_history(self, identifier: str, *, session: Session | None = None) -> ConsentHistory:
        """Every consent change of the customer (and profiles merged into it), in written order."""
        with self._read(session) as s:
            customer = self.get(s, identifier)
            ids = [customer.id, *repository.merged_into(s, customer.id)]
            return ConsentHistory(
                customer_id=customer.id,
                history=[
                    ConsentRecord(
                        purpose=c.purpose,
                        granted=c.granted,
                        source=c.source,
                        recorded_at=c.recorded_at,
                    )
                    for c in repository.consents_of(s, ids)
                ],
            )


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_cursor(before: str) -> tuple[datetime, int | None]:
    """``before`` as ``(time, event id)``: an ISO-8601 time, or ``<time>~<id>`` from a page."""
    text, _, id_text = before.partition("~")
    try:
        at = datetime.fromisoformat(text.strip())
        event_id = int(id_text) if id_text else None
    except ValueError:
        raise Invalid(
            "before must be an ISO-8601 time or a next_before cursor", detail={"field": "before"}
        ) from None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)), event_id
