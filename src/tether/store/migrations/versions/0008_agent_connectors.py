"""The environment's list of connectors its AI agents (MCP) may use.

Revision ID: 0008_agent_connectors
Revises: 0007_certification
Create Date: 2026-12-03

NULL (every existing environment) means every connector is exposed, as before this setting.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_agent_connectors"
down_revision: str | None = "0007_certification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("environment_settings") as batch:
        batch.add_column(sa.Column("agent_connectors", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("environment_settings") as batch:
        batch.drop_column("agent_connectors")
