"""serving: the per-visitor event indexes cover what recommendation serving reads

Recommendation serving reads a visitor's last views/adds (kind, sku) and latest traffic
source through ``(user_id, timestamp)`` / ``(anonymous_id, timestamp)``. With those columns in
the index the rows themselves are never fetched: on a 1.5M-event store the table lookups were
~30 scattered page reads per request. Same names and leading columns, so every other query
these indexes served is served as before; an ingested event still writes the same number of
index entries.

Revision ID: 0003_serving
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003_serving"
down_revision = "0002"
branch_labels = None
depends_on = None

COVERED = ["kind", "sku", "source"]


def upgrade() -> None:
    for name, column in (("ix_events_user_ts", "user_id"), ("ix_events_anon_ts", "anonymous_id")):
        op.drop_index(name, table_name="events")
        op.create_index(name, "events", [column, "timestamp", *COVERED], unique=False)


def downgrade() -> None:
    for name, column in (("ix_events_user_ts", "user_id"), ("ix_events_anon_ts", "anonymous_id")):
        op.drop_index(name, table_name="events")
        op.create_index(name, "events", [column, "timestamp"], unique=False)
