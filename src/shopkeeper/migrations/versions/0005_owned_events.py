"""owned events: each event is indexed under its owner only (userId, else anonymousId)

An event belongs to its userId when it has one and to its anonymousId otherwise
(``customers.repository.event_owner``; recommendation training already read events so). The
two per-visitor indexes become partial to match: ``ix_events_user_ts`` holds events with a
userId, ``ix_events_anon_ts`` those without. Every ingested event then writes one entry keyed
by a visitor instead of two, and those entries land on random pages of large indexes: on
SQLite each one dirties a page that the commit writes to the WAL, which was half of what an
append cost (BENCHMARKS.md, benchmark 1).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = ["timestamp", "kind", "sku", "source"]
#: (name, leading column, columns after COLUMNS, the partial index's condition). The
#: anonymous index also carries user_id (always NULL in it, one byte): SQLite checks a query's
#: ``user_id IS NULL`` from the index entry then, so serving reads stay index-only.
INDEXES: tuple[tuple[str, str, list[str], str], ...] = (
    ("ix_events_user_ts", "user_id", [], "user_id IS NOT NULL"),
    ("ix_events_anon_ts", "anonymous_id", ["user_id"], "user_id IS NULL"),
)


def upgrade() -> None:
    for name, column, more, owned in INDEXES:
        op.drop_index(name, table_name="events")
        op.create_index(
            name,
            "events",
            [column, *COLUMNS, *more],
            sqlite_where=sa.text(owned),
            postgresql_where=sa.text(owned),
        )


def downgrade() -> None:
    for name, column, _, _ in INDEXES:
        op.drop_index(name, table_name="events")
        op.create_index(name, "events", [column, *COLUMNS])
