"""Certification requests, the catalog, data policies (DLP), certifiers and suspended flows.

Revision ID: 0007_certification
Revises: 0006_organization
Create Date: 2026-12-03

``users.is_certifier`` marks who reviews submissions; ``flows.suspended_reason`` says why a data
policy change switched a flow off. Catalog entries copy the certified files, so they outlive
their source connector.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_certification"
down_revision: str | None = "0006_organization"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("is_certifier", sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table("flows") as batch:
        batch.add_column(sa.Column("suspended_reason", sa.Text(), nullable=True))
    op.create_table(
        "certification_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("readme", sa.Text(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(length=36), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["connectors.id"],
            name=op.f("fk_certification_requests_connector_id_connectors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_certification_requests_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"],
            ["users.id"],
            name=op.f("fk_certification_requests_submitted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_requests")),
    )
    op.create_index(
        op.f("ix_certification_requests_connector_id"), "certification_requests", ["connector_id"]
    )
    op.create_table(
        "certification_comments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["certification_requests.id"],
            name=op.f("fk_certification_comments_request_id_certification_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_comments")),
    )
    op.create_index(op.f("ix_certification_comments_request_id"), "certification_comments", ["request_id"])
    op.create_table(
        "catalog_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("publisher", sa.String(length=200), nullable=False),
        sa.Column("readme", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_connector_id", sa.String(length=36), nullable=False),
        sa.Column("source_revision", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_entries")),
        sa.UniqueConstraint("name", name=op.f("uq_catalog_entries_name")),
        sa.UniqueConstraint("source_connector_id", name=op.f("uq_catalog_entries_source_connector_id")),
    )
    op.create_table(
        "catalog_files",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["catalog_entries.id"],
            name=op.f("fk_catalog_files_entry_id_catalog_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "name", name=op.f("pk_catalog_files")),
    )
    op.create_table(
        "catalog_installs",
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["connectors.id"],
            name=op.f("fk_catalog_installs_connector_id_connectors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["catalog_entries.id"],
            name=op.f("fk_catalog_installs_entry_id_catalog_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connector_id", name=op.f("pk_catalog_installs")),
    )
    op.create_index(op.f("ix_catalog_installs_entry_id"), "catalog_installs", ["entry_id"])
    op.create_table(
        "data_policies",
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("default_group", sa.String(length=16), nullable=False),
        sa.Column("http_allowed_hosts", sa.JSON(), nullable=False),
        sa.Column("http_denied_hosts", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_data_policies_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("environment_id", name=op.f("pk_data_policies")),
    )
    op.create_table(
        "data_policy_rules",
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("connector_key", sa.String(length=100), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_data_policy_rules_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("environment_id", "connector_key", name=op.f("pk_data_policy_rules")),
    )


def downgrade() -> None:
    op.drop_table("data_policy_rules")
    op.drop_table("data_policies")
    op.drop_index(op.f("ix_catalog_installs_entry_id"), table_name="catalog_installs")
    op.drop_table("catalog_installs")
    op.drop_table("catalog_files")
    op.drop_table("catalog_entries")
    op.drop_index(op.f("ix_certification_comments_request_id"), table_name="certification_comments")
    op.drop_table("certification_comments")
    op.drop_index(op.f("ix_certification_requests_connector_id"), table_name="certification_requests")
    op.drop_table("certification_requests")
    with op.batch_alter_table("flows") as batch:
        batch.drop_column("suspended_reason")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_certifier")
