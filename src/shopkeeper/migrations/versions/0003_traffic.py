"""traffic channel: the marketing channel an event shows (GA4 default channel group)

Revision ID: 0003_traffic
Revises: 0002
Create Date: 2026-11-23

No index: the column is read in per-person scans (served by the user/anonymous id indexes)
and by analytics' full scans, never looked up on its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_traffic"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("traffic_channel", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("traffic_channel")
