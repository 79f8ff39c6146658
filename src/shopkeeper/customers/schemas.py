"""Customer 360 shapes: the profile, the consent API and the event page.

Money is ``Decimal`` (a JSON string), as in the catalog: totals must add up to the cent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopkeeper.customers.tenure import Tenure

#: Consent purposes. A purpose never given is reported as unknown (``granted`` null), which
#: every caller must treat as *not* granted.
CONSENT_PURPOSES = ("analytics", "personalization", "email", "advertising")


class IdentityOut(BaseModel):
    kind: str
    value: str
    first_seen: datetime


class Traits(BaseModel):
    """What the customer told us. Nothing here is inferred: no salutation from a first name,
    no pronoun from a gender. ``name`` is ``traits.name``, else first and last name joined."""

    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    salutation: str | None = None
    pronoun: str | None = None
    birthday: str | None = None
    locale: str | None = None
    address: dict[str, Any] | str | None = None


class ConsentState(BaseModel):
    """The consent in force for one purpose; ``granted`` None means never asked (= not granted)."""

    granted: bool | None = None
    source: str | None = None
    recorded_at: datetime | None = None


class LastOrder(BaseModel):
    id: str
    placed_at: datetime
    total: Decimal
    status: str
    channel: str


class Activity(BaseModel):
    """Counts over the customer's events (the latest ``EVENT_WINDOW``) and all their orders.

    ``orders`` counts completed and partially refunded orders; ``revenue`` is their totals less
    refunded amounts; ``refunds`` counts refunded and partially refunded orders.
    """

    first_seen: datetime | None
    last_seen: datetime | None
    sessions: int
    orders: int
    revenue: Decimal
    average_order_value: Decimal | None
    last_order: LastOrder | None
    refunds: int


class Share(BaseModel):
    value: str
    share: float


class AffinitiesOut(BaseModel):
    """Shares of interest (recency-weighted views, cart adds, purchases), top 5 per dimension."""

    categories: list[Share]
    category_paths: list[Share]
    brands: list[Share]
    price_tiers: list[Share]


class ProductView(BaseModel):
    sku: str
    title: str | None
    at: datetime


class Search(BaseModel):
    query: str
    at: datetime


class Recent(BaseModel):
    product_views: list[ProductView]
    searches: list[Search]


class Channels(BaseModel):
    """Order counts per sales channel and event counts per event channel."""

    orders: dict[str, int]
    events: dict[str, int]


class Location(BaseModel):
    country: str | None
    city: str | None
    count: int


class TrafficSource(BaseModel):
    source: str
    medium: str | None
    count: int


class Traffic(BaseModel):
    """Traffic channels (GA4 default channel group, ``segments/traffic.py``) of the visits."""

    channel: str | None = Field(None, description="Channel of the current (latest) session.")
    first_channel: str | None = Field(
        None, description="Channel of the first visit: the acquisition channel."
    )
    sessions_by_channel: dict[str, int] = Field(default_factory=dict)


class Profile(BaseModel):
    """The customer 360° profile (Unomi: Profile), as ``GET /v1/customers/{id}`` returns it."""

    id: str
    identities: list[IdentityOut]
    merged_from: list[str]
    traits: Traits
    consent: dict[str, ConsentState]
    tenure: Tenure
    activity: Activity
    affinities: AffinitiesOut
    recent: Recent
    channels: Channels
    devices: dict[str, int]
    locations: list[Location]
    traffic_sources: list[TrafficSource]
    traffic: Traffic


class ConsentUpdate(BaseModel):
    """``PUT /v1/customers/{id}/consent``: purposes to set; purposes left out are untouched."""

    model_config = ConfigDict(extra="forbid")

    purposes: dict[str, bool] = Field(min_length=1)
    source: str = Field("api", min_length=1, max_length=32)


class ConsentRecord(BaseModel):
    """One row of consent history."""

    purpose: str
    granted: bool
    source: str
    recorded_at: datetime


class ConsentHistory(BaseModel):
    customer_id: str
    history: list[ConsentRecord]


class ConsentOut(BaseModel):
    customer_id: str
    consent: dict[str, ConsentState]
    changed: list[str]


class EventOut(BaseModel):
    id: int
    type: str
    kind: str
    event: str | None
    timestamp: datetime
    user_id: str | None
    anonymous_id: str | None
    session_id: str | None
    sku: str | None
    order_id: str | None
    value: float | None
    currency: str | None
    query: str | None
    source: str | None
    medium: str | None
    campaign: str | None
    channel: str | None
    traffic_channel: str | None
    device_type: str | None
    country: str | None
    city: str | None
    page_url: str | None
    properties: dict[str, Any]


class EventPage(BaseModel):
    """Events newest first. Pass ``next_before`` as ``before`` for the next page (null: done)."""

    customer_id: str
    events: list[EventOut]
    next_before: str | None
