from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tether.store import Base, Database, current_revision, head_revision, migrate

TABLES = {
    "alembic_version",
    "alert_rules",
    "alert_settings",
    "events",
    "webhooks",
    "webhook_deliveries",
    "catalog_entries",
    "catalog_files",
    "catalog_installs",
    "certification_comments",
    "certification_requests",
    "data_policies",
    "data_policy_rules",
    "audit_events",
    "connector_revision_files",
    "connector_revisions",
    "connectors",
    "connections",
    "environment_settings",
    "flow_runs",
    "flow_ticks",
    "flow_triggers",
    "environment_variables",
    "gateways",
    "gateway_members",
    "groups",
    "idempotency_keys",
    "group_members",
    "environment_group_roles",
    "grants",
    "flows",
    "run_actions",
    "run_blobs",
    "run_segments",
    "install_secrets",
    "pending_consents",
    "environment_members",
    "environments",
    "personal_access_tokens",
    "portal_test_calls",
    "users",
}


def test_migrate_empty_database_to_head(database_url: str) -> None:
    with Database(database_url) as db:
        assert current_revision(db) is None
        migrate(db)
        assert current_revision(db) == head_revision() == "0013_run_segments"
        assert set(inspect(db.engine).get_table_names()) == TABLES


def test_migrate_is_idempotent(database_url: str) -> None:
    with Database(database_url) as db:
        migrate(db)
        migrate(db)
        assert current_revision(db) == head_revision()


def test_models_match_migrations(database_url: str) -> None:
    with Database(database_url) as db:
        migrate(db)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
