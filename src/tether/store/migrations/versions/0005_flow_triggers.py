"""Connector trigger state per flow: polling cursor and webhook subscription.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

One row per flow with an ApiConnection/OpenApiConnection (polling) or webhook trigger. No foreign
key to ``flows`` on purpose: a deleted flow's row outlives it until its webhook subscription is
DELETEd at the API. ``leased_by``/``leased_until`` make one process at a time poll or (un)subscribe.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flow_triggers",
        sa.Column("flow_id", sa.String(length=36), nullable=False),
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("trigger_name", sa.String(length=200), nullable=False),
        sa.Column("trigger_type", sa.String(length=64), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("connection_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("flow_id", name=op.f("pk_flow_triggers")),
    )
    op.create_index(op.f("ix_flow_triggers_next_poll_at"), "flow_triggers", ["next_poll_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_flow_triggers_next_poll_at"), table_name="flow_triggers")
    op.drop_table("flow_triggers")
