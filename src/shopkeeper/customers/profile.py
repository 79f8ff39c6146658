"""How stored rows become the parts of a profile: pure rules over rows already loaded.

The service (``service.py``) decides *what* to load; this module decides what it *means*: which
orders count as completed, which events are visits, what "traits" may say. No queries here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shopkeeper.customers.affinities import Action, Interaction
from shopkeeper.customers.repository import (
    ConsentFacts,
    CustomerFacts,
    EventFacts,
    OrderFacts,
    ProductFacts,
)
from shopkeeper.customers.schemas import (
    CONSENT_PURPOSES,
    Activity,
    ConsentState,
    LastOrder,
    ProductView,
    Recent,
    Search,
    Traffic,
    Traits,
)
from shopkeeper.customers.sessions import Session, split_sessions
from shopkeeper.events.kinds import SYSTEM_KINDS
from shopkeeper.models import Customer

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
        *SYSTEM_KINDS,
    }
)
ACTIONS: dict[str, Action] = {"product_viewed": "view", "product_added": "cart"}
CENT = Decimal("0.01")


def consent_in_force(history: Sequence[ConsentFacts]) -> dict[str, ConsentState]:
    """The last row per purpose (``history`` oldest first); every standard purpose present."""
    state = {purpose: ConsentState() for purpose in CONSENT_PURPOSES}
    for row in history:
        state[row.purpose] = ConsentState(
            granted=row.granted, source=row.source, recorded_at=row.recorded_at
        )
    return state


def traits_of(customer: Customer | CustomerFacts) -> Traits:
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


def interaction(at: datetime, action: Action, product: ProductFacts | None) -> Interaction:
    if product is None:
        return Interaction(at=at, action=action)
    return Interaction(
        at=at,
        action=action,
        category_path=product.category_path,
        brand=product.brand,
        price_tier=product.price_tier,
    )


def activity_of(
    customer: Customer | CustomerFacts, events: Sequence[EventFacts], orders: Sequence[OrderFacts]
) -> tuple[Activity, list[Session]]:
    """Activity figures, plus every session, oldest first (for tenure and traffic)."""
    sessions = split_sessions(
        (e.timestamp, e.session_id, e.traffic_channel) for e in events if e.kind not in NOT_VISITS
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
        revenue=money(revenue),
        average_order_value=money(revenue / len(completed)) if completed else None,
        last_order=LastOrder(
            id=last.id,
            placed_at=last.placed_at,
            total=money(last.total),
            status=last.status,
            channel=last.channel,
        )
        if last
        else None,
        refunds=sum(1 for o in orders if o.status in REFUNDED),
    )
    return activity, sessions


def traffic_of(sessions: Sequence[Session]) -> Traffic:
    """Traffic channels of the visits (``sessions`` oldest first): the current session's, the
    first visit's (acquisition) and the number of sessions per channel.

    Only the newest :data:`EVENT_WINDOW` events are read, so for a very busy customer
    ``first_channel`` is the channel of the oldest session still in that window.
    """
    known = [s.channel for s in sessions if s.channel is not None]
    counts: dict[str, int] = {}
    for channel in known:
        counts[channel] = counts.get(channel, 0) + 1
    return Traffic(
        channel=sessions[-1].channel if sessions else None,
        first_channel=known[0] if known else None,
        sessions_by_channel=dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def recent_of(events: Sequence[EventFacts], products: Mapping[str, ProductFacts]) -> Recent:
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


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
