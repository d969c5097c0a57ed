"""Connections, pending OAuth consents, environment settings and install secrets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Secret columns (``secret_values``, ``tokens``, ``verifier``, ``install_secrets.value``) hold
KeyRing tokens, never plaintext. Types are written out, as in 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("parameter_set", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("parameter_names", sa.JSON(), nullable=False),
        sa.Column("secret_values", sa.Text(), nullable=True),
        sa.Column("tokens", sa.Text(), nullable=True),
        _timestamp("token_expires_at", nullable=True),
        sa.Column("grant", sa.String(length=32), nullable=True),
        sa.Column("gateway", sa.String(length=200), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("token_refreshed_at", nullable=True),
        sa.Column("refresh_count", sa.Integer(), nullable=False),
        _fk("connections", "environment_id", "environments"),
        _fk("connections", "connector_id", "connectors"),
        _fk("connections", "owner_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
    )
    for column in ("environment_id", "connector_id", "owner_id"):
        op.create_index(op.f(f"ix_connections_{column}"), "connections", [column])
    op.create_table(
        "pending_consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=True),
        sa.Column("verifier", sa.Text(), nullable=True),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        _timestamp("used_at", nullable=True),
        _fk("pending_consents", "connection_id", "connections"),
        _fk("pending_consents", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_consents")),
    )
    op.create_index(op.f("ix_pending_consents_connection_id"), "pending_consents", ["connection_id"])
    op.create_table(
        "environment_settings",
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("oauth_global_redirect_enforcement", sa.Date(), nullable=True),
        _timestamp("updated_at"),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        _fk("environment_settings", "environment_id", "environments"),
        sa.PrimaryKeyConstraint("environment_id", name=op.f("pk_environment_settings")),
    )
    op.create_table(
        "install_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_install_secrets")),
    )


def downgrade() -> None:
    for table in ("install_secrets", "environment_settings", "pending_consents", "connections"):
        op.drop_table(table)
