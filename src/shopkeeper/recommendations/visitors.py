"""The person a request is for, read from the store lazily: only what the placement touches.

A ``similar`` request for an anonymous page costs no visitor query at all. Otherwise the
identifier is resolved with one indexed query; the profile's event identifiers, its purchases,
its last views/adds and its traffic source cost one query each, when the placement reads them —
so a ``for_you`` request makes four. Everything is read inside the request's one read
transaction and cached for the rest of the request; nothing is cached across requests, so the
next request sees the last event.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from shopkeeper.db import Reader
from shopkeeper.recommendations import repository

__all__ = ["Visitor"]


class Visitor:
    """A customer (any identifier), an anonymous visitor, both, or nobody.

    Args:
        reader: The request's reader (the visitor must not outlive it).
        customer: Customer id or any identifier a profile has (userId, e-mail, ...).
        anonymous_id: The visitor's anonymousId (their events carry it even before an
            identity links it to a profile).
    """

    def __init__(self, reader: Reader, customer: str | None, anonymous_id: str | None) -> None:
        self.reader = reader
        self.customer = customer
        self.anonymous_id = anonymous_id

    @cached_property
    def customer_ids(self) -> list[str]:
        """The live profile(s) behind the identifiers (those merged into them are read with
        them by the queries below)."""
        found: list[str] = []
        for identifier in (self.customer, self.anonymous_id):
            customer_id = repository.live_customer(self.reader, identifier) if identifier else None
            if customer_id is not None and customer_id not in found:
                found.append(customer_id)
        return found

    @cached_property
    def purchases(self) -> list[tuple[str, datetime]]:
        """(sku, placed_at) of completed product lines, oldest first."""
        if not self.customer_ids:
            return []
        return repository.purchases_of(self.reader, self.customer_ids)

    @cached_property
    def keys(self) -> list[tuple[str, str]]:
        """(kind, value) of the userIds and anonymousIds their events carry."""
        return repository.visitor_keys(self.reader, self.customer_ids, self.anonymous_id)

    @cached_property
    def recent(self) -> list[tuple[str, str, datetime]]:
        """(sku, kind, timestamp) of the last views and adds, newest first."""
        return repository.recent_product_events(self.reader, self.keys)

    @cached_property
    def source(self) -> str | None:
        """Traffic source of the visitor's latest event that names one."""
        if not self.customer and not self.anonymous_id:
            return None
        return repository.latest_source(self.reader, self.keys)

    @property
    def known(self) -> bool:
        """Whether the store knows anything about them (a profile or recent events)."""
        return bool(self.customer_ids or self.recent)
