"""Turning a validated spec message into a typed event row, and a stored row into its facts.

Pure: no database. The writer stores rows; the projector derives each new row's facts
(identities, products, orders) with :func:`facts_of` and applies them once, in log order, so
replaying a batch changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shopkeeper.catalog.schemas import ProductIn
from shopkeeper.events.context import campaign_of, consent_of, device_class, text
from shopkeeper.events.kinds import ORDER_KINDS, PRODUCT_KINDS, kind_of
from shopkeeper.events.rows import COLUMNS, PLAIN, Encoding
from shopkeeper.events.schemas import Message
from shopkeeper.identities.service import Observation
from shopkeeper.models import CHANNELS
from shopkeeper.orders.schemas import OrderIn, OrderLineIn
from shopkeeper.segments.traffic import event_channel


@dataclass(slots=True)
class OrderFact:
    """What an order event says: a whole order to record, or a status change."""

    kind: str
    order: OrderIn | None = None
    order_id: str = ""
    refunded: Decimal | None = None
    user_id: str | None = None
    anonymous_id: str | None = None


@dataclass(slots=True)
class Facts:
    """What one stored event changes outside the log: identities, products, an order."""

    observation: Observation
    #: (sku, properties) of every product the event names; turned into catalog rows once
    #: per distinct sku by :func:`products_of`.
    products: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    order: OrderFact | None = None


def products_of(facts: list[Facts]) -> list[ProductIn]:
    """Catalog updates from a batch: one per sku, fields from the latest event that had them."""
    latest: dict[str, dict[str, Any]] = {}
    for item in facts:
        for sku, props in item.products:
            latest[sku] = props
    return [_product(props, sku) for sku, props in latest.items()]


def event_time(message: Message, received_at: datetime) -> datetime:
    """Segment's clock-skew correction: ``receivedAt - (sentAt - timestamp)`` when sentAt is set."""
    stamp = message.timestamp or message.originalTimestamp
    if stamp is None:
        return received_at
    sent = message.sentAt
    if sent is None:
        return _aware(stamp)
    if stamp.tzinfo is None or sent.tzinfo is None:
        stamp, sent = _aware(stamp), _aware(sent)
    return received_at - (sent - stamp)


def event_values(
    message: Message, received_at: datetime, encoding: Encoding = PLAIN, received: Any = None
) -> list[Any]:
    """The ``events`` row for a validated message, in :data:`COLUMNS` order and encoded for
    the store's driver: typed columns plus the JSON it came with.

    Built straight into the driver's list, with no dict between (the ingest hot path);
    ``received`` is ``received_at`` already encoded, when a batch's calls share it. The row
    keeps everything :func:`facts_of` needs, so facts can be derived from the log alone, long
    after the request (the background projector does exactly that).
    """
    context = message.context or {}
    props = message.properties or {}
    kind = kind_of(message.type, message.event)
    page = _object(context.get("page"))
    location = _object(context.get("location"))
    campaign = campaign_of(context)
    user_agent = text(context.get("userAgent"), 500)
    json = encoding.json
    values = [  # in COLUMNS order
        message.messageId or f"sk-{uuid.uuid4().hex}",  # message_id
        message.type,  # type
        message.event or message.name,  # event
        kind,  # kind
        message.userId,  # user_id
        message.anonymousId,  # anonymous_id
        message.previousId if message.type == "alias" else None,  # previous_id
        encoding.time(event_time(message, received_at)),  # timestamp
        encoding.time(received_at) if received is None else received,  # received_at
        text(context.get("sessionId") or props.get("session_id"), 100),  # session_id
        _sku(props) if kind in PRODUCT_KINDS else None,  # sku
        text(props.get("order_id") or props.get("checkout_id"), 100),  # order_id
        _number(_value_of(kind, props)),  # value
        _currency(props.get("currency")),  # currency
        text(props.get("query"), 500),  # query
        text(campaign.get("source"), 40),  # source
        text(campaign.get("medium"), 40),  # medium
        text(campaign.get("name"), 200),  # campaign
        _channel(message.type, kind, props, context),  # channel
        _traffic_channel(message, campaign, page, props),  # traffic_channel
        device_class(context.get("device"), user_agent),  # device_type
        text(location.get("country"), 64),  # country
        text(location.get("city"), 100),  # city
        text(context.get("ip"), 64),  # ip
        user_agent,  # user_agent
        text(page.get("url"), 2000),  # page_url
        text(page.get("referrer"), 2000),  # referrer
        text(context.get("locale"), 35),  # locale
        json(props),  # properties
        json(message.traits or {}),  # traits
        json(context),  # context
    ]
    null = encoding.null
    if null is None:
        return values
    return [null if value is None else value for value in values]


def event_row(message: Message, received_at: datetime) -> dict[str, Any]:
    """:func:`event_values` by column name, as Python holds them."""
    return dict(zip(COLUMNS, event_values(message, received_at), strict=True))


def facts_of(row: Mapping[str, Any]) -> Facts:
    """The facts a stored event carries (pure: the same row always gives the same facts)."""
    call = row["type"]
    kind = row["kind"]
    context = row["context"] or {}
    props = row["properties"] or {}
    stored_traits = row["traits"] or None
    traits = stored_traits if call in {"identify", "group"} else None
    context_traits = _object(context.get("traits"))
    email_source = traits or context_traits
    email = email_source.get("email") if isinstance(email_source.get("email"), str) else None
    facts = Facts(
        observation=Observation(
            timestamp=row["timestamp"],
            reason=call,
            user_id=row["user_id"],
            anonymous_id=row["anonymous_id"],
            previous_id=row["previous_id"],
            email=email,
            traits=traits if call == "identify" else None,
            consent=consent_of(context, stored_traits) or None,
        )
    )
    sku = row["sku"]
    if kind in PRODUCT_KINDS and sku:
        facts.products.append((sku, props))
    if kind in ORDER_KINDS:
        facts.order = _order_fact(row, props, context_traits)
        for item in props.get("products") or []:
            item_sku = _sku(item) if isinstance(item, dict) else None
            if item_sku:
                facts.products.append((item_sku, item))
    return facts


def _order_fact(
    row: Mapping[str, Any], props: dict[str, Any], context_traits: dict[str, Any]
) -> OrderFact | None:
    kind, order_id = row["kind"], row["order_id"]
    if not order_id or kind in {"checkout_started", "order_updated"}:
        return None
    fact = OrderFact(
        kind=kind, order_id=order_id, user_id=row["user_id"], anonymous_id=row["anonymous_id"]
    )
    if kind == "order_refunded":
        fact.refunded = _decimal(props.get("total") or props.get("revenue"))
        return fact
    if kind == "order_cancelled":
        return fact
    lines = [
        OrderLineIn(
            sku=_sku(item) or "",
            name=text(item.get("name"), 500),
            quantity=_int(item.get("quantity"), 1),
            unit_price=_decimal(item.get("price")) or Decimal(0),
        )
        for item in props.get("products") or []
        if isinstance(item, dict) and _sku(item)
    ]
    subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    total = _decimal(props.get("total"))
    if total is None:
        revenue = _decimal(props.get("revenue")) or subtotal
        total = (
            revenue
            + (_decimal(props.get("shipping")) or 0)
            + (_decimal(props.get("tax")) or 0)
            - (_decimal(props.get("discount")) or 0)
        )
    fact.order = OrderIn(
        id=order_id,
        channel=row["channel"] if row["channel"] in CHANNELS else "web",
        status="completed",
        currency=row["currency"],
        total=total,
        revenue=_decimal(props.get("revenue")),
        shipping=_decimal(props.get("shipping")),
        tax=_decimal(props.get("tax")),
        discount=_decimal(props.get("discount")),
        coupon=text(props.get("coupon"), 100),
        email=text(context_traits.get("email"), 320),
        source="event",
        placed_at=row["timestamp"],
        lines=lines,
    )
    return fact


def _product(props: dict[str, Any], sku: str) -> ProductIn:
    return ProductIn.model_construct(
        sku=sku[:100],
        title=text(props.get("name"), 500),
        category_path=text(props.get("category"), 500),
        brand=text(props.get("brand"), 200),
        price=_decimal(props.get("price")),
        currency=_currency(props.get("currency")),
        price_tier=props.get("price_tier")
        if props.get("price_tier") in ("budget", "mid", "premium")
        else None,
        in_stock=None,
        is_product=None,
        attributes=None,
    )


def _traffic_channel(
    message: Message, utm: dict[str, str], page: dict[str, Any], props: dict[str, Any]
) -> str | None:
    """The marketing channel the event shows; a page call's own properties stand in for a
    missing ``context.page`` (server-side page calls)."""
    seen = page or (props if message.type == "page" else {})
    url, referrer = seen.get("url"), seen.get("referrer")
    return event_channel(
        utm,
        url if isinstance(url, str) and url else None,
        referrer if isinstance(referrer, str) and referrer else None,
        has_page=bool(seen) or message.type == "page",
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sku(props: dict[str, Any]) -> str | None:
    return text(props.get("sku") or props.get("product_id"), 100)


def _value_of(kind: str, props: dict[str, Any]) -> Any:
    if kind in ORDER_KINDS:
        return props.get("total", props.get("revenue"))
    if kind in PRODUCT_KINDS:
        return props.get("price")
    return props.get("value", props.get("revenue"))


def _channel(call: str, kind: str, props: dict[str, Any], context: dict[str, Any]) -> str:
    declared = props.get("channel")
    if isinstance(declared, str) and declared.lower() in CHANNELS:
        return declared.lower()
    if kind == "store_visited":
        return "store"
    if call == "screen" or isinstance(context.get("app"), dict):
        return "app"
    return "web"


def _currency(value: Any) -> str | None:
    return value.upper() if isinstance(value, str) and len(value) == 3 else None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) < 1e15 else None


def _decimal(value: Any) -> Decimal | None:
    number = _number(value)
    if number is None:
        return None
    try:
        return Decimal(str(number))
    except InvalidOperation:
        return None


def _int(value: Any, default: int) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def _aware(stamp: datetime) -> datetime:
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
