"""personas: fitted persona models and each customer's current persona

Revision ID: 0003_personas
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shopkeeper.models.base

revision = "0003_personas"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "persona_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", shopkeeper.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("k", sa.SmallInteger(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("silhouette", sa.Float(), nullable=False),
        sa.Column("stability", sa.Float(), nullable=True),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("params", shopkeeper.models.base.JSONType, nullable=False),
        sa.Column("cards", shopkeeper.models.base.JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persona_models")),
    )
    with op.batch_alter_table("persona_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_persona_models_is_current"), ["is_current"], unique=False
        )
    op.create_table(
        "customer_personas",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("cluster", sa.SmallInteger(), nullable=False),
        sa.Column("persona", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_personas_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["persona_models.id"],
            name=op.f("fk_customer_personas_model_id_persona_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_personas")),
    )
    with op.batch_alter_table("customer_personas", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_personas_model_cluster", ["model_id", "cluster"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customer_personas_persona"), ["persona"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customer_personas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_personas_persona"))
        batch_op.drop_index("ix_customer_personas_model_cluster")
    op.drop_table("customer_personas")
    with op.batch_alter_table("persona_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persona_models_is_current"))
    op.drop_table("persona_models")
