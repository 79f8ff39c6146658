"""segments: definitions, membership intervals and size snapshots

Revision ID: 0003_segments
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shopkeeper.models.base

revision = "0003_segments"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = shopkeeper.models.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rule", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("evaluated_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("slug", name=op.f("uq_segments_slug")),
    )
    op.create_table(
        "segment_memberships",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("segment_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("entered_at", UTC, nullable=False),
        sa.Column("exited_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_memberships_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_segment_memberships_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_memberships")),
    )
    op.create_index(
        "ix_segment_memberships_segment_open",
        "segment_memberships",
        ["segment_id", "exited_at"],
    )
    op.create_index("ix_segment_memberships_customer_id", "segment_memberships", ["customer_id"])
    op.create_index(
        "uq_segment_memberships_open",
        "segment_memberships",
        ["segment_id", "customer_id"],
        unique=True,
        sqlite_where=sa.text("exited_at IS NULL"),
        postgresql_where=sa.text("exited_at IS NULL"),
    )
    op.create_table(
        "segment_sizes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("segment_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", UTC, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("exited", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_sizes_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_sizes")),
    )
    op.create_index("ix_segment_sizes_segment_at", "segment_sizes", ["segment_id", "evaluated_at"])


def downgrade() -> None:
    op.drop_index("ix_segment_sizes_segment_at", table_name="segment_sizes")
    op.drop_table("segment_sizes")
    op.drop_index("uq_segment_memberships_open", table_name="segment_memberships")
    op.drop_index("ix_segment_memberships_customer_id", table_name="segment_memberships")
    op.drop_index("ix_segment_memberships_segment_open", table_name="segment_memberships")
    op.drop_table("segment_memberships")
    op.drop_table("segments")
