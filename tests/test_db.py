"""The hot-path :class:`~shopkeeper.db.Reader` on both backends: the same rows and types as a
session, list parameters of any length, each use sees the last commit, errors do not leak."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, select

from shopkeeper.application import Shopkeeper
from shopkeeper.db import ReadStatement, begin_immediate
from shopkeeper.models import Customer

_customers = Customer.__table__.c
BY_IDS = ReadStatement(
    select(_customers.id, _customers.created_at, _customers.traits, _customers.email)
    .where(_customers.id.in_(bindparam("ids", expanding=True)), _customers.email.is_not(None))
    .order_by(_customers.id),
    lists=("ids",),
)
SINCE = ReadStatement(
    select(_customers.id).where(_customers.created_at >= bindparam("since")).order_by(_customers.id)
)
AT = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def _add(shop: Shopkeeper, *ids: str, at: datetime = AT) -> None:
    with shop.db.transaction() as session:
        for n, customer_id in enumerate(ids):
            session.add(
                Customer(
                    id=customer_id,
                    created_at=at.replace(minute=n),
                    updated_at=at,
                    email=f"{customer_id}@example.com",
                    traits={"n": n, "name": customer_id.title()},
                )
            )


def test_rows_match_a_session_read_with_types_converted(shop: Shopkeeper) -> None:
    _add(shop, "ada", "bob", "cy")
    with shop.db.reading() as reader:
        rows = reader.all(BY_IDS, ids=["cy", "ada", "nobody"])
    with shop.db.sessions() as session:
        expected = [
            tuple(row)
            for row in session.execute(BY_IDS.statement, {"ids": ["cy", "ada", "nobody"]})
        ]
    assert rows == expected
    assert rows[0] == ("ada", AT, {"n": 0, "name": "Ada"}, "ada@example.com")
    assert rows[1][1] == AT.replace(minute=2)
    assert rows[1][1].tzinfo is not None


def test_list_parameters_of_every_length_and_converted_binds(shop: Shopkeeper) -> None:
    _add(shop, *(f"c{n:02d}" for n in range(12)))
    with shop.db.reading() as reader:
        for size in (1, 2, 5, 12):
            wanted = [f"c{n:02d}" for n in range(size)]
            assert [row[0] for row in reader.all(BY_IDS, ids=wanted)] == wanted
        # a datetime parameter goes through the column type's conversion (SQLite: a string)
        assert reader.all(SINCE, since=AT.replace(minute=10)) == [("c10",), ("c11",)]
        assert reader.first(SINCE, since=AT.replace(hour=13)) is None


def test_each_use_sees_the_last_commit(shop: Shopkeeper) -> None:
    with shop.db.reading() as reader:
        assert reader.all(BY_IDS, ids=["ada"]) == []
    _add(shop, "ada")
    with shop.db.reading() as reader:
        assert [row[0] for row in reader.all(BY_IDS, ids=["ada"])] == ["ada"]


def test_a_failed_read_leaves_no_broken_reader_behind(shop: Shopkeeper) -> None:
    _add(shop, "ada")
    broken = ReadStatement(select(_customers.id).where(_customers.id == bindparam("id")))
    with pytest.raises(KeyError), shop.db.reading() as reader:
        reader.all(broken)  # the parameter is missing
    driver_error = shop.db.engine.dialect.loaded_dbapi.Error
    with pytest.raises(driver_error), shop.db.reading() as reader:
        reader.cursor.execute("SELECT no_such_column FROM customers")
    with shop.db.reading() as reader:
        assert reader.first(broken, id="ada") == ("ada",)


def test_readers_are_reused_and_closed_with_the_store(shop: Shopkeeper) -> None:
    with shop.db.reading() as first:
        pass
    with shop.db.reading() as again:
        assert again is first
        with shop.db.reading() as concurrent:  # a second caller gets its own connection
            assert concurrent is not first
    shop.db.dispose()
    assert shop.db._idle == []


def test_a_writer_gets_the_sqlite_write_lock_as_soon_as_it_is_free(tmp_path: Path) -> None:
    """``begin_immediate`` polls every millisecond at most, where SQLite's busy handler would
    sleep up to 100 ms between tries, and gives up with SQLite's own error after its timeout."""
    path = tmp_path / "lock.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    waiter = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        begin_immediate(waiter, timeout=0.05)
    released: list[float] = []

    def release() -> None:
        time.sleep(0.25)  # SQLite's own handler would try at 228 ms, then at 328 ms
        holder.execute("COMMIT")
        released.append(time.monotonic())

    thread = threading.Thread(target=release)
    thread.start()
    begin_immediate(waiter)
    acquired = time.monotonic()
    thread.join()
    waiter.execute("COMMIT")
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000  # restored
    # a loose bound: the point is a millisecond or so, not SQLite's sleeps of up to 100 ms
    assert acquired - released[0] < 0.05
