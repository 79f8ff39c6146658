"""Helpers for identity-graph tests: observe in one transaction, dump the store's rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect, select

from shopkeeper.application import Shopkeeper
from shopkeeper.identities.service import IdentityGraph, Observation
from shopkeeper.models import Consent, Customer, Identity, Merge, Order
from shopkeeper.settings import Settings

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)

Observe = Callable[..., None]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def obs(reason: str = "page", minutes: float = 0, **fields: Any) -> Observation:
    return Observation(timestamp=at(minutes), reason=reason, **fields)


@pytest.fixture
def graph(shop: Shopkeeper) -> IdentityGraph:
    return IdentityGraph(shop.settings, shop.clock)


def graph_with(shop: Shopkeeper, **overrides: Any) -> IdentityGraph:
    settings = Settings(**{**shop.settings.model_dump(), **overrides})
    return IdentityGraph(settings, shop.clock)


@pytest.fixture
def observe(shop: Shopkeeper, graph: IdentityGraph) -> Observe:
    """``observe(obs, obs, ...)``: one batch in one committed transaction."""

    def run(*observations: Observation, using: IdentityGraph | None = None) -> None:
        with shop.db.transaction() as session:
            (using or graph).observe(session, list(observations))

    return run


def customer_of(shop: Shopkeeper, kind: str, value: str) -> str | None:
    with shop.db.sessions() as s:
        return s.scalar(
            select(Identity.customer_id).where(Identity.kind == kind, Identity.value == value)
        )


def live_customers(shop: Shopkeeper) -> list[Customer]:
    with shop.db.sessions() as s:
        return list(s.scalars(select(Customer).where(Customer.merged_into_id.is_(None))))


def merges(shop: Shopkeeper) -> list[Merge]:
    with shop.db.sessions() as s:
        return list(s.scalars(select(Merge).order_by(Merge.id)))


def add_order(shop: Shopkeeper, order_id: str, customer_id: str) -> None:
    with shop.db.transaction() as s:
        s.add(
            Order(
                id=order_id,
                customer_id=customer_id,
                total=Decimal("12.50"),
                placed_at=T0,
                updated_at=T0,
            )
        )


def _rows(session: Any, model: Any, *, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    columns = [a.key for a in inspect(model).column_attrs if a.key not in skip]
    rows = [{c: getattr(obj, c) for c in columns} for obj in session.scalars(select(model))]
    return sorted(rows, key=lambda row: str(row["id"]))


def dump(shop: Shopkeeper, *, skip: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a merge touches (``skip`` leaves columns out)."""
    with shop.db.sessions() as s:
        return {
            "customers": _rows(s, Customer, skip=skip),
            "identities": _rows(s, Identity),
            "orders": _rows(s, Order, skip=skip),
            "consents": _rows(s, Consent),
            "merges": _rows(s, Merge),
        }
