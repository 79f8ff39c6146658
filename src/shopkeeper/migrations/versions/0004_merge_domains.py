"""merge the domains' sibling revisions (projection, segments, traffic, serving, personas)

Revision ID: 0004
Revises: 0003_projection, 0003_segments, 0003_traffic, 0003_serving, 0003_personas
Create Date: 2026-11-23

Each domain added its tables in a revision branching from 0002, so the branches could be
written in parallel; this one joins them, so ``head`` is single again and the next revision
has one parent.
"""

from __future__ import annotations

revision = "0004"
down_revision = (
    "0003_projection",
    "0003_segments",
    "0003_traffic",
    "0003_serving",
    "0003_personas",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
