"""Queries about customers. Every lookup of a customer by an identifier goes through here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopkeeper.models import Customer, Identity

#: Identifier kinds tried, in order, when a caller gives a bare identifier.
LOOKUP_KINDS = ("user_id", "anonymous_id", "email", "loyalty_id")


def find_customer(session: Session, identifier: str) -> Customer | None:
    """The live customer behind ``identifier``: a customer id, a userId, an anonymousId,
    an e-mail or a loyalty id. A merged-away profile resolves to the profile it joined."""
    customer = session.get(Customer, identifier)
    if customer is None:
        customer_id = session.scalar(
            select(Identity.customer_id)
            .where(Identity.value.in_({identifier, identifier.strip().lower()}),
                   Identity.kind.in_(LOOKUP_KINDS))
            .limit(1)
        )
        customer = session.get(Customer, customer_id) if customer_id else None
    seen: set[str] = set()
    while customer is not None and customer.merged_into_id and customer.id not in seen:
        seen.add(customer.id)
        customer = session.get(Customer, customer.merged_into_id)
    return customer


def identities_of(session: Session, customer_id: str) -> list[Identity]:
    return list(
        session.scalars(
            select(Identity).where(Identity.customer_id == customer_id).order_by(Identity.id)
        )
    )
