"""The data subject's rights: export everything held about a person, and erase it.

Both are written to the audit log under a pseudonym (SHA-256 of the customer id), never the id
or an e-mail, so the log proves an erasure happened without identifying whom it erased.

The caller owns the transaction (``with shop.db.transaction() as session``); the one exception
is :meth:`PrivacyService.export_chunks`, which streams from its own read-only session so a
person with millions of events is exported without holding them in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.orm import Session

from shopkeeper.customers.repository import find_customer
from shopkeeper.errors import NotFound
from shopkeeper.models import AuditEntry
from shopkeeper.privacy import repository
from shopkeeper.privacy.repository import Person

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: the audit pseudonym and rows touched per table."""

    target: str
    counts: dict[str, int]


def pseudonym(customer_id: str) -> str:
    """How the audit log names a person: ``sha256:<hex>`` of the customer id."""
    return "sha256:" + hashlib.sha256(customer_id.encode()).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS)


class PrivacyService:
    def __init__(self, shop: Shopkeeper) -> None:
        self.shop = shop

    def person(self, session: Session, identifier: str) -> Person:
        """The person behind ``identifier`` (customer id, userId, anonymousId or e-mail).

        Raises:
            NotFound: nobody in the store goes by that identifier.
        """
        customer = find_customer(session, identifier)
        if customer is None:
            raise NotFound(f"no customer {identifier}")
        return repository.collect_person(session, customer)

    def begin_export(self, session: Session, identifier: str, *, actor: str) -> Person:
        """Resolve the person and audit-log the export, before any byte of it is sent."""
        person = self.person(session, identifier)
        self._audit(
            session, actor, "customer.export", person, {"profiles": len(person.customer_ids)}
        )
        return person

    def export_chunks(self, person: Person, *, page: int = 1000) -> Iterator[bytes]:
        """The export as JSON, in chunks: profiles, identities, consent history, orders with
        their lines and merges first, then every event in time order, ``page`` at a time, each
        page read in its own short session.

        Example::

            with shop.db.transaction() as session:
                person = shop.privacy.begin_export(session, "user-42", actor="cli")
            with open("user-42.json", "wb") as out:
                out.writelines(shop.privacy.export_chunks(person))
        """
        with self.shop.db.sessions() as session:
            head = self._export_head(session, person)
        yield _dumps(head)[:-1] + b',"events":['
        separator = b""
        cursor: tuple[datetime, int] | None = None
        while True:
            with self.shop.db.sessions() as session:
                events = repository.events_page(session, person, cursor, page)
            for event in events:
                yield separator + _dumps(repository.row_dict(event))
                separator = b","
            if len(events) < page:
                break
            cursor = (events[-1].timestamp, events[-1].id)
        yield b"]}"

    def export(self, session: Session, identifier: str, *, actor: str) -> dict[str, Any]:
        """The whole export as one dict, read in the caller's session (for small exports and
        tests; the API and CLI stream :meth:`export_chunks` instead)."""
        person = self.begin_export(session, identifier, actor=actor)
        events = repository.events_page(session, person, None, limit=None)
        return {
            **orjson.loads(_dumps(self._export_head(session, person))),
            "events": [orjson.loads(_dumps(repository.row_dict(e))) for e in events],
        }

    def _export_head(self, session: Session, person: Person) -> dict[str, Any]:
        return {
            "customer_id": person.customer_id,
            "exported_at": self.shop.clock.now(),
            "profiles": [repository.row_dict(c) for c in repository.profiles(session, person)],
            "identities": [repository.row_dict(i) for i in repository.identities(session, person)],
            "consents": [repository.row_dict(c) for c in repository.consents(session, person)],
            "orders": [
                {**repository.row_dict(order), "lines": [repository.row_dict(li) for li in lines]}
                for order, lines in repository.orders_with_lines(session, person)
            ],
            "merges": [repository.row_dict(m) for m in repository.merges(session, person)],
            "segment_memberships": [
                repository.row_dict(m) for m in repository.memberships(session, person)
            ],
        }

    def erase(self, session: Session, identifier: str, *, actor: str) -> Erasure:
        """Erase the person: their profiles (and those merged into them), identities, events,
        consent history, merges and segment memberships go; their orders stay for the books
        without the customer link or e-mail; earlier audit entries naming them are pseudonymised.

        Everything happens in the caller's one transaction, so a failure erases nothing.

        Raises:
            NotFound: nobody in the store goes by ``identifier``.
        """
        person = self.person(session, identifier)
        target = pseudonym(person.customer_id)
        counts = {
            "events": repository.delete_events(session, person),
            "consents": repository.delete_consents(session, person),
            "merges": repository.delete_merges(session, person),
            "orders": repository.anonymise_orders(session, person),
            "segment_memberships": repository.delete_memberships(session, person),
            "identities": repository.delete_identities(session, person),
            "customers": repository.delete_customers(session, person),
            "audit_log": repository.pseudonymise_audit(session, person, target),
        }
        self._audit(session, actor, "customer.erase", person, counts)
        return Erasure(target=target, counts=counts)

    def _audit(
        self, session: Session, actor: str, action: str, person: Person, detail: dict[str, Any]
    ) -> None:
        session.add(
            AuditEntry(
                at=self.shop.clock.now(),
                actor=actor,
                action=action,
                target=pseudonym(person.customer_id),
                detail=detail,
            )
        )
