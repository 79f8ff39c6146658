"""message ids: deduplicate ingest in two levels instead of a unique index on the log

``events.message_id`` loses its unique constraint; ``event_message_ids`` (a primary key and
nothing else) takes the messageIds of every event stored so far, and the ``message-ids``
position in ``projections`` marks the last event merged into it. The writers check the newest
events against the log itself and merge them in sorted batches (``events.dedup``): a random
messageId no longer costs a random page of a unique index on every append, which was most of
an append on SQLite (BENCHMARKS.md, benchmark 1).

SQLite cannot drop a table constraint, so the events table is rebuilt there: its own CREATE
statement without the constraint, the rows copied in id order, its indexes and its
AUTOINCREMENT counter (ids are never reused) restored.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UNIQUE = re.compile(r",\s*CONSTRAINT uq_events_message_id UNIQUE \(message_id\)")
POSITION = "message-ids"


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "event_message_ids",
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_event_message_ids")),
        sqlite_with_rowid=False,
    )
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite_events(bind)
    else:
        op.drop_constraint("uq_events_message_id", "events", type_="unique")
    op.execute(
        "INSERT INTO event_message_ids (message_id) "
        "SELECT message_id FROM events WHERE id > 0 ORDER BY message_id ON CONFLICT DO NOTHING"
    )
    newest = bind.execute(sa.text("SELECT max(id) FROM events")).scalar() or 0
    projections = sa.table(
        "projections",
        sa.column("name", sa.String),
        sa.column("position", sa.BigInteger),
        sa.column("updated_at", sa.DateTime),
    )
    op.execute(projections.delete().where(projections.c.name == POSITION))
    now = datetime.now(UTC)
    op.execute(
        projections.insert().values(
            name=POSITION,
            position=newest,
            updated_at=now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now,
        )
    )


def downgrade() -> None:
    bind = op.get_bind()
    op.execute(sa.text("DELETE FROM projections WHERE name = :name").bindparams(name=POSITION))
    op.drop_table("event_message_ids")
    if bind.dialect.name == "sqlite":
        op.create_index("uq_events_message_id", "events", ["message_id"], unique=True)
    else:
        op.create_unique_constraint("uq_events_message_id", "events", ["message_id"])


def _rebuild_sqlite_events(bind: sa.Connection) -> None:
    create = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'"
    ).scalar_one()
    constraint = UNIQUE.search(create)
    if constraint is None:  # downgraded from here: the uniqueness is an index, not the table's
        op.drop_index("uq_events_message_id", table_name="events")
        return
    indexes = (
        bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
            "AND sql IS NOT NULL"
        )
        .scalars()
        .all()
    )
    counter = bind.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'events'").scalar()
    rebuilt = create[: constraint.start()] + create[constraint.end() :]
    bind.exec_driver_sql(
        re.sub(r"^CREATE TABLE (\"events\"|events\b)", "CREATE TABLE events_new", rebuilt)
    )
    bind.exec_driver_sql("INSERT INTO events_new SELECT * FROM events ORDER BY id")
    bind.exec_driver_sql("DROP TABLE events")
    bind.exec_driver_sql("ALTER TABLE events_new RENAME TO events")
    for index in indexes:
        bind.exec_driver_sql(index)
    if counter is not None:  # the copy set it to the newest id left; erased ids stay used
        bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'events'")
        bind.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)", (counter,)
        )
