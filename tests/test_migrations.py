"""The Alembic migrations build exactly the schema the ORM models describe, on both stores."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shopkeeper.application import Shopkeeper
from shopkeeper.models import Base


def test_migrated_schema_matches_the_models(shop: Shopkeeper) -> None:
    with shop.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
