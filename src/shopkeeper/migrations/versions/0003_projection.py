"""projection: alias previousId kept on events; consumers' positions in the event log

Revision ID: 0003_projection
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shopkeeper.models.base

revision = "0003_projection"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite the table is rebuilt as AUTOINCREMENT, so ids are never reused (see Event).
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "events",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True} if sqlite else {},
    ) as batch_op:
        batch_op.add_column(sa.Column("previous_id", sa.String(length=320), nullable=True))
    op.create_table(
        "projections",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", shopkeeper.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projections")),
    )
    # Stores migrated from 0002 applied every event's facts inline: start after the last one.
    op.execute(
        "INSERT INTO projections (name, position, updated_at) "
        "SELECT 'facts', COALESCE(MAX(id), 0), CURRENT_TIMESTAMP FROM events"
    )


def downgrade() -> None:
    op.drop_table("projections")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("previous_id")
