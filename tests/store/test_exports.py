from __future__ import annotations

import tether.services
import tether.store


def test_store_exports() -> None:
    assert sorted(tether.store.__all__) == sorted(
        [
            "MIGRATIONS_PATH", "ROLES", "SQLITE_BUSY_TIMEOUT_MS", "AuditEvent", "AuditLog", "Base",
            "Connector", "ConnectorRevision", "ConnectorRevisionFile", "Connectors", "Database",
            "DatabaseUnavailable", "Environment", "EnvironmentMember", "Environments",
            "PersonalAccessToken", "Tokens", "User", "Users", "alembic_config", "create_engine_for",
            "current_revision", "head_revision", "migrate", "new_id", "utcnow",
        ]
    )  # fmt: skip
    for name in tether.store.__all__:
        assert hasattr(tether.store, name)


def test_services_exports() -> None:
    assert sorted(tether.services.__all__) == sorted(
        [
            "ADMIN_USERNAME", "DEFAULT_ENVIRONMENT", "ROLES",
            "TOKEN_PREFIX", "BootstrapResult", "ConnectorInfo", "EnvironmentInfo", "MemberInfo",
            "Principal", "RevisionInfo", "TokenInfo", "UserInfo",
            "add_member", "authenticate_password", "authenticate_token", "bootstrap",
            "create_connector", "create_environment", "create_token",
            "create_user", "delete_connector", "get_connector", "get_environment", "get_revision_files",
            "get_user", "list_connectors", "list_environments", "list_members", "list_revisions",
            "list_tokens", "remove_member", "revoke_token", "rollback_connector", "slugify",
            "update_connector",
        ]
    )  # fmt: skip
    for name in tether.services.__all__:
        assert hasattr(tether.services, name)
