"""The ``customer_scores`` table: erased with the person, and its migration reversible."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import func, inspect, select

from shopkeeper.application import Shopkeeper
from shopkeeper.db import MIGRATIONS_DIR, Database
from shopkeeper.models import CustomerScore
from shopkeeper.settings import Settings

from .conftest import REFERENCE


def test_scores_are_erased_with_the_person(shop: Shopkeeper, store: Any) -> None:
    with shop.db.transaction() as session:
        shop.analytics.write_back(session, REFERENCE)
    with shop.db.transaction() as session:
        shop.privacy.erase(session, "u1", actor="test")
    with shop.db.sessions() as session:
        assert session.get(CustomerScore, store["u1"]) is None
        assert session.scalar(select(func.count()).select_from(CustomerScore)) == 5


def test_migration_0002_downgrades_and_upgrades(tmp_path: Path) -> None:
    db = Database(Settings(data_dir=tmp_path))
    db.migrate()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert "customer_scores" not in inspect(db.engine).get_table_names()
    db.migrate()
    assert "customer_scores" in inspect(db.engine).get_table_names()
    db.dispose()
