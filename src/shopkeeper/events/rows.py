"""The shape of an ``events`` row on its way to the store: its columns in order, and how a
driver takes its values. Shared by :mod:`~shopkeeper.events.normalize`, which builds rows,
and :mod:`~shopkeeper.events.repository`, which inserts them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: The ``events`` columns (all but the id) in the order
#: :func:`~shopkeeper.events.normalize.event_values` gives them.
COLUMNS = (
    "message_id",
    "type",
    "event",
    "kind",
    "user_id",
    "anonymous_id",
    "previous_id",
    "timestamp",
    "received_at",
    "session_id",
    "sku",
    "order_id",
    "value",
    "currency",
    "query",
    "source",
    "medium",
    "campaign",
    "channel",
    "traffic_channel",
    "device_type",
    "country",
    "city",
    "ip",
    "user_agent",
    "page_url",
    "referrer",
    "locale",
    "properties",
    "traits",
    "context",
)


@dataclass(frozen=True, slots=True)
class Encoding:
    """How a store's driver takes an event row's values (``events.repository.ENCODINGS``)."""

    time: Callable[[datetime], Any]
    json: Callable[[Any], Any]
    null: Any = None


#: Values as Python holds them (``normalize.event_row``'s).
PLAIN = Encoding(time=lambda stamp: stamp, json=lambda value: value)
