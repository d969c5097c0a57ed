"""Organization: groups, group roles in environments, grants on resources, audit ``via``, audit retention.

Revision ID: 0006_organization
Revises: 0006_connection_status
Create Date: 2026-12-03

Ownership already lives on the resources (``connectors.created_by``, ``connections.owner_id``,
``flows.created_by``); grants add Can edit / Can use / Can run for users, groups or everyone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_organization"
down_revision: str | None = "0006_flow_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_groups_name")),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_group_members_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_group_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_group_members")),
    )
    op.create_index(op.f("ix_group_members_user_id"), "group_members", ["user_id"])
    op.create_table(
        "environment_group_roles",
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_environment_group_roles_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_environment_group_roles_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("environment_id", "group_id", name=op.f("pk_environment_group_roles")),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("resource_kind", sa.String(length=16), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("grantee_kind", sa.String(length=16), nullable=False),
        sa.Column("grantee_id", sa.String(length=36), nullable=False),
        sa.Column("permission", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_grants_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.UniqueConstraint(
            "resource_kind",
            "resource_id",
            "grantee_kind",
            "grantee_id",
            name=op.f("uq_grants_resource_kind_resource_id_grantee_kind_grantee_id"),
        ),
    )
    op.create_index(op.f("ix_grants_environment_id"), "grants", ["environment_id"])
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("via", sa.String(length=64), nullable=True))
    with op.batch_alter_table("environment_settings") as batch:
        batch.add_column(sa.Column("audit_retention_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("environment_settings") as batch:
        batch.drop_column("audit_retention_days")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("via")
    op.drop_index(op.f("ix_grants_environment_id"), table_name="grants")
    op.drop_table("grants")
    op.drop_table("environment_group_roles")
    op.drop_index(op.f("ix_group_members_user_id"), table_name="group_members")
    op.drop_table("group_members")
    op.drop_table("groups")
