"""Token refresh coordination and the connection status it keeps honest.

Revision ID: 0006_connection_status
Revises: 0006_run_encryption
Create Date: 2026-12-03

``token_version`` counts stored token sets: a refresh writes its result only if the version is the
one it read (compare-and-set), so two processes never overwrite each other's rotated refresh token.
``refresh_lease_owner``/``refresh_lease_until`` name the one process calling the token endpoint for
the connection; the lease is claimed and committed *before* the call, so no transaction (and no
row or database lock) is held while waiting for the provider. ``refresh_failures`` and
``refresh_retry_at`` space out retries after failures whose outcome is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_connection_status"
down_revision: str | None = "0006_run_encryption"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("refresh_lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("refresh_lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("refresh_failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("refresh_retry_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        for name in (
            "refresh_retry_at",
            "refresh_failures",
            "refresh_lease_until",
            "refresh_lease_owner",
            "token_version",
        ):
            batch.drop_column(name)
