"""The environment's switch that seals flow run data (inputs, outputs, errors) at rest.

Revision ID: 0006_run_encryption
Revises: 0006_environment_variables
Create Date: 2026-12-03

Off by default (existing environments keep readable run rows); the server default keeps rows
inserted by older code valid.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_run_encryption"
down_revision: str | None = "0006_environment_variables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("environment_settings") as batch:
        batch.add_column(
            sa.Column("encrypt_run_data", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("environment_settings") as batch:
        batch.drop_column("encrypt_run_data")
