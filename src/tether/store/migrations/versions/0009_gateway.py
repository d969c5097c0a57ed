"""On-premises gateways: clusters with their key material, and their registered agents.

Revision ID: 0009_gateway
Revises: 0008_agent_connectors
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_gateway"
down_revision: str | None = "0008_agent_connectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateways",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("public_key", sa.String(length=64), nullable=True),
        sa.Column("wrapped_private_key", sa.Text(), nullable=True),
        sa.Column("registration_token_hash", sa.String(length=64), nullable=True),
        sa.Column("registration_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_gateways_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_gateways_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateways")),
        sa.UniqueConstraint("environment_id", "name", name=op.f("uq_gateways_environment_id_name")),
    )
    op.create_index(op.f("ix_gateways_environment_id"), "gateways", ["environment_id"])
    op.create_index(op.f("ix_gateways_registration_token_hash"), "gateways", ["registration_token_hash"])
    op.create_table(
        "gateway_members",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("gateway_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("load", sa.Integer(), nullable=False),
        sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["gateways.id"],
            name=op.f("fk_gateway_members_gateway_id_gateways"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_members")),
    )
    op.create_index(op.f("ix_gateway_members_gateway_id"), "gateway_members", ["gateway_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_gateway_members_gateway_id"), table_name="gateway_members")
    op.drop_table("gateway_members")
    op.drop_index(op.f("ix_gateways_registration_token_hash"), table_name="gateways")
    op.drop_index(op.f("ix_gateways_environment_id"), table_name="gateways")
    op.drop_table("gateways")
