"""The person a request is for, read from the store lazily: only what the placement touches.

A ``similar`` request for an anonymous page costs no visitor query at all; ``for_you`` reads
the profile, its purchases and its last views/adds. Everything is read inside the request's
one session and cached for the rest of the request.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from sqlalchemy.orm import Session

from shopkeeper.customers.repository import find_customer, merged_into
from shopkeeper.recommendations import repository

__all__ = ["Visitor"]


class Visitor:
    """A customer (any identifier), an anonymous visitor, both, or nobody.

    Args:
        session: The request's session (the visitor must not outlive it).
        customer: Customer id or any identifier :func:`find_customer` resolves.
        anonymous_id: The visitor's anonymousId (their events carry it even before an
            identity links it to a profile).
    """

    def __init__(self, session: Session, customer: str | None, anonymous_id: str | None) -> None:
        self.session = session
        self.customer = customer
        self.anonymous_id = anonymous_id

    @cached_property
    def customer_ids(self) -> list[str]:
        """The live profile(s) behind the identifiers and those merged into them."""
        found: list[str] = []
        for identifier in (self.customer, self.anonymous_id):
            customer = find_customer(self.session, identifier) if identifier else None
            if customer is not None and customer.id not in found:
                found.append(customer.id)
        for customer_id in list(found):
            found += merged_into(self.session, customer_id)
        return found

    @cached_property
    def keys(self) -> tuple[list[str], list[str]]:
        """(userIds, anonymousIds) the visitor's events carry."""
        users: list[str] = []
        anonymous: list[str] = []
        if self.customer_ids:
            users, anonymous = repository.visitor_keys(self.session, self.customer_ids)
        if self.anonymous_id and self.anonymous_id not in anonymous:
            anonymous.append(self.anonymous_id)
        return users, anonymous

    @cached_property
    def purchases(self) -> list[tuple[str, datetime]]:
        """(sku, placed_at) of completed product lines, oldest first."""
        if not self.customer_ids:
            return []
        return repository.purchases_of(self.session, self.customer_ids)

    @cached_property
    def recent(self) -> list[tuple[str, str, datetime]]:
        """(sku, kind, timestamp) of the last views and adds, newest first."""
        return repository.recent_product_events(self.session, *self.keys)

    @cached_property
    def source(self) -> str | None:
        """Traffic source of the visitor's latest event that names one."""
        if not self.customer and not self.anonymous_id:
            return None
        return repository.latest_source(self.session, *self.keys)

    @property
    def known(self) -> bool:
        """Whether the store knows anything about them (a profile or recent events)."""
        return bool(self.customer_ids or self.recent)
