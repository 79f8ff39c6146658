"""visitor indexes: the per-visitor event indexes cover every column a person's reads use

A profile reads up to ``EVENT_WINDOW`` events of a customer (``customers.repository``
``PROFILE_EVENT_COLUMNS``), and the triggers read each arriving person's events of the last
weeks (``triggers.repository``). The indexes held the owner, time, kind, sku and source, so
every other column (session, query, sales channel, device, place, medium, traffic channel,
value, campaign) came from the row: one scattered page of the events table per event, a random
read across the whole log, which is most of the store. With those columns in the index such a
read takes a few adjacent leaf pages instead, and its working set is the index and the small
tables, not the log. Same names and leading columns, so every query these indexes served is
served as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BEFORE = ["timestamp", "kind", "sku", "source"]
READ = ["session_id", "query", "channel", "device_type", "country", "city", "medium"]
AFTER = [*BEFORE, *READ, "traffic_channel", "value", "campaign"]
#: (name, leading column, columns after, the partial index's condition), as in 0005.
INDEXES: tuple[tuple[str, str, list[str], str], ...] = (
    ("ix_events_user_ts", "user_id", [], "user_id IS NOT NULL"),
    ("ix_events_anon_ts", "anonymous_id", ["user_id"], "user_id IS NULL"),
)


def _rebuild(columns: list[str]) -> None:
    for name, column, more, owned in INDEXES:
        op.drop_index(name, table_name="events")
        op.create_index(
            name,
            "events",
            [column, *columns, *more],
            sqlite_where=sa.text(owned),
            postgresql_where=sa.text(owned),
        )


def upgrade() -> None:
    _rebuild(AFTER)


def downgrade() -> None:
    _rebuild(BEFORE)
