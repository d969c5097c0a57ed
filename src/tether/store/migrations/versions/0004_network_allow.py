"""The environment's network allow list (hosts and CIDRs its connectors may reach).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Nullable: an environment without the setting keeps the runtime's default policy, which refuses
loopback, private and link-local addresses.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("environment_settings") as batch:
        batch.add_column(sa.Column("network_allow", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("environment_settings") as batch:
        batch.drop_column("network_allow")
