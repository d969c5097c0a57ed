"""Environment variables: per-environment values flows read with appSetting() / parameters().

Revision ID: 0006_environment_variables
Revises: 0005
Create Date: 2026-12-03

One row per (environment, name); a secure value is a key ring token.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_environment_variables"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "environment_variables",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("secure", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_environment_variables_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_environment_variables")),
        sa.UniqueConstraint(
            "environment_id", "name", name=op.f("uq_environment_variables_environment_id_name")
        ),
    )
    op.create_index(
        op.f("ix_environment_variables_environment_id"), "environment_variables", ["environment_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_environment_variables_environment_id"), table_name="environment_variables")
    op.drop_table("environment_variables")
