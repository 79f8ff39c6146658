"""Customer 360 (read side) and consent: the rules that turn stored rows into a profile.

This is also the Python API (``shop.customers.profile("user-42")``). Each public method is a
unit of work: it opens a transaction unless the caller passes ``session=`` to compose it into
its own, and it never commits a session it was given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from shopkeeper.customers import repository
from shopkeeper.customers.affinities import (
    Action,
    AffinityConfig,
    Interaction,
    compute_affinities,
)
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
    LastOrder,
    Location,
    ProductView,
    Profile,
    Recent,
    Search,
    Share,
    TrafficSource,
    Traits,
)
from shopkeeper.customers.sessions import split_sessions
from shopkeeper.customers.tenure import TenureFacts, TenureRules, tenure_of
from shopkeeper.errors import Invalid, NotFound
from shopkeeper.models import Consent, Customer, Order, Product

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

#: Most recent events a profile is computed from: bounds the cost for very busy identifiers.
EVENT_WINDOW = 2000
#: How many recent product views and searches a profile lists.
RECENT_ITEMS = 10
#: How many locations and traffic sources a profile lists.
TOP_PLACES = 10
#: Orders counted as completed (``orders``, ``revenue``, tenure).
COMPLETED = frozenset({"completed", "partially_refunded"})
#: Orders whose lines count as purchases for affinities (everything not undone).
PURCHASED = frozenset({"placed", "completed", "partially_refunded"})
REFUNDED = frozenset({"refunded", "partially_refunded"})
#: Event kinds that are not visits (e-mail engagement, identity calls): they never open a session.
NOT_VISITS = frozenset(
    {
        "identify",
        "alias",
        "group",
        "email_delivered",
        "email_opened",
        "email_link_clicked",
        "email_bounced",
        "email_marked_as_spam",
        "email_unsubscribed",
    }
)
ACTIONS: dict[str, Action] = {"product_viewed": "view", "product_added": "cart"}
CENT = Decimal("0.01")


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
        with self._unit(session) as s:
            return self._profile(s, self.get(s, identifier))

    def _profile(self, s: Session, customer: Customer) -> Profile:
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
            _interaction(e.timestamp, ACTIONS[e.kind], products.get(e.sku))
            for e in events
            if e.kind in ACTIONS and e.sku
        ] + [
            _interaction(placed[ln.order_id], "purchase", products.get(ln.sku))
            for ln in lines
            if ln.is_product
        ]
        affinities = compute_affinities(interactions, now, self.affinity_config)
        activity, sessions_started = _activity(customer, events, orders)
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
            recent=_recent(events, products),
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
        )

    def _tenure_facts(
        self,
        activity: Activity,
        starts: Sequence[datetime],
        orders: Sequence[Order],
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
        with self._unit(session) as s:
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
        with self._unit(session) as s:
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
        """Every consent change of the customer (and profiles merged into it), oldest first."""
        with self._unit(session) as s:
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


# --- assembly rules (module functions: no state, easy to test) -----------------------------


def consent_in_force(history: Sequence[Consent]) -> dict[str, ConsentState]:
    """The last row per purpose (``history`` oldest first); every standard purpose present."""
    state = {purpose: ConsentState() for purpose in CONSENT_PURPOSES}
    for row in history:
        state[row.purpose] = ConsentState(
            granted=row.granted, source=row.source, recorded_at=row.recorded_at
        )
    return state


def traits_of(customer: Customer) -> Traits:
    """Traits exactly as given (Segment's camelCase accepted); nothing inferred."""
    raw: Mapping[str, Any] = customer.traits or {}

    def text(*keys: str) -> str | None:
        for key in keys:
            value = raw.get(key)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                value = str(value).strip()
                if value:
                    return value
        return None

    first, last = text("first_name", "firstName"), text("last_name", "lastName")
    address = raw.get("address")
    return Traits(
        name=text("name") or (" ".join(p for p in (first, last) if p) or None),
        first_name=first,
        last_name=last,
        email=text("email") or customer.email,
        phone=text("phone"),
        salutation=text("salutation"),
        pronoun=text("pronoun", "pronouns"),
        birthday=text("birthday"),
        locale=text("locale"),
        address=address if isinstance(address, dict | str) and address else None,
    )


def _interaction(at: datetime, action: Action, product: Product | None) -> Interaction:
    if product is None:
        return Interaction(at=at, action=action)
    return Interaction(
        at=at,
        action=action,
        category_path=product.category_path,
        brand=product.brand,
        price_tier=product.price_tier,
    )


def _activity(
    customer: Customer, events: Sequence[Row[Any]], orders: Sequence[Order]
) -> tuple[Activity, list[datetime]]:
    """Activity figures, plus the start time of every session (for tenure)."""
    sessions = split_sessions(
        (e.timestamp, e.session_id) for e in events if e.kind not in NOT_VISITS
    )
    completed = [o for o in orders if o.status in COMPLETED]
    revenue = sum((o.total - (o.refunded or 0) for o in completed), Decimal(0))
    seen_first = [
        t for t in (customer.first_seen_at, *(o.placed_at for o in orders[-1:])) if t is not None
    ]
    seen_last = [t for t in (customer.last_seen_at,) if t is not None]
    if events:
        seen_first.append(events[-1].timestamp)
        seen_last.append(events[0].timestamp)
    last = orders[0] if orders else None
    activity = Activity(
        first_seen=min(seen_first) if seen_first else None,
        last_seen=max(seen_last) if seen_last else None,
        sessions=len(sessions),
        orders=len(completed),
        revenue=_money(revenue),
        average_order_value=_money(revenue / len(completed)) if completed else None,
        last_order=LastOrder(
            id=last.id,
            placed_at=last.placed_at,
            total=_money(last.total),
            status=last.status,
            channel=last.channel,
        )
        if last
        else None,
        refunds=sum(1 for o in orders if o.status in REFUNDED),
    )
    return activity, [s.start for s in sessions]


def _recent(events: Sequence[Row[Any]], products: Mapping[str, Product]) -> Recent:
    views: list[ProductView] = []
    searches: list[Search] = []
    for e in events:  # newest first
        if e.kind == "product_viewed" and e.sku and len(views) < RECENT_ITEMS:
            product = products.get(e.sku)
            views.append(
                ProductView(sku=e.sku, title=product.title if product else None, at=e.timestamp)
            )
        elif e.kind == "product_searched" and e.query and len(searches) < RECENT_ITEMS:
            searches.append(Search(query=e.query, at=e.timestamp))
    return Recent(product_views=views, searches=searches)


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


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
