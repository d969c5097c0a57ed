"""Portal test calls: each user's last Test-tab calls on each connector (answer sealed).

Revision ID: 0007_portal_tests
Revises: 0010_idempotency
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_portal_tests"
down_revision: str | None = "0010_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_test_calls",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operation_id", sa.String(length=200), nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_portal_test_calls_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["connectors.id"],
            name=op.f("fk_portal_test_calls_connector_id_connectors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_test_calls")),
    )
    op.create_index(
        "ix_portal_test_calls_user_connector", "portal_test_calls", ["user_id", "connector_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_portal_test_calls_user_connector", table_name="portal_test_calls")
    op.drop_table("portal_test_calls")
