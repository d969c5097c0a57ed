"""A flow's kind (Stateful or Stateless) and what a stateless flow keeps of its runs.

Revision ID: 0006_flow_kind
Revises: 0006_connection_status
Create Date: 2026-12-03

Existing flows become Stateful (the server default), so nothing they do changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_flow_kind"
down_revision: str | None = "0006_connection_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flows") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="Stateful"))
        batch.add_column(
            sa.Column("run_history", sa.String(length=32), nullable=False, server_default="failures")
        )


def downgrade() -> None:
    with op.batch_alter_table("flows") as batch:
        batch.drop_column("run_history")
        batch.drop_column("kind")
