"""Persistence: SQLAlchemy 2 models, repositories, engines and Alembic migrations.

SQLite (WAL) under ``TETHER_HOME`` by default; PostgreSQL when ``TETHER_DATABASE_URL`` says so.
Only :mod:`tether.services` should use this layer; it never checks permissions.

    db = Database(settings.database_url)
    migrate(db)
    with db.session() as s:
        Users(s).by_username("admin")
"""

from __future__ import annotations

from tether.store._accounts import Environments, Tokens, Users
from tether.store._alerts import ALERT_RULE_KINDS, AlertRule, Alerts, AlertSetting
from tether.store._audit import AuditLog
from tether.store._connections import (
    CONNECTION_STATUSES,
    Connection,
    Connections,
    EnvironmentSetting,
    InstallSecret,
    PendingConsent,
)
from tether.store._connectors import Connectors
from tether.store._direct import DirectConnection
from tether.store._engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    DatabaseReadOnly,
    DatabaseUnavailable,
    create_engine_for,
)
from tether.store._environment_variables import EnvironmentVariable, EnvironmentVariables
from tether.store._event_writes import (
    append_event,
    environment_name,
    flow_facts,
    queue_deliveries,
    subscribed_webhooks,
)
from tether.store._events import Event, Events, event_id
from tether.store._flow_runs import FlowRuns
from tether.store._flow_triggers import FlowTrigger, FlowTriggers
from tether.store._flows import Flow, FlowRun, Flows, FlowTick, RunAction
from tether.store._gateways import MEMBER_STATUSES, Gateway, GatewayMember, Gateways
from tether.store._governance import (
    DLP_GROUPS,
    REQUEST_STATES,
    Catalog,
    CatalogEntry,
    CatalogFile,
    CatalogInstall,
    CertificationComment,
    CertificationRequest,
    Certifications,
    DataPolicies,
    DataPolicy,
    DataPolicyRule,
)
from tether.store._idempotency import IdempotencyKeys, IdempotencyRecord
from tether.store._migrate import MIGRATIONS_PATH, alembic_config, current_revision, head_revision, migrate
from tether.store._models import (
    ROLES,
    AuditEvent,
    Base,
    Connector,
    ConnectorRevision,
    ConnectorRevisionFile,
    Environment,
    EnvironmentMember,
    PersonalAccessToken,
    User,
    new_id,
    utcnow,
)
from tether.store._organization import (
    EVERYONE,
    GRANTEE_KINDS,
    PERMISSIONS,
    RESOURCE_KINDS,
    EnvironmentGroupRole,
    Grant,
    Grants,
    Group,
    GroupMember,
    Groups,
)
from tether.store._portal_tests import PortalTestCall, PortalTestCalls
from tether.store._webhooks import DELIVERY_STATES, Webhook, WebhookDelivery, Webhooks

__all__ = [
    "ALERT_RULE_KINDS",
    "CONNECTION_STATUSES",
    "DELIVERY_STATES",
    "DLP_GROUPS",
    "EVERYONE",
    "GRANTEE_KINDS",
    "MEMBER_STATUSES",
    "MIGRATIONS_PATH",
    "PERMISSIONS",
    "REQUEST_STATES",
    "RESOURCE_KINDS",
    "ROLES",
    "SQLITE_BUSY_TIMEOUT_MS",
    "AlertRule",
    "AlertSetting",
    "Alerts",
    "AuditEvent",
    "AuditLog",
    "Base",
    "Catalog",
    "CatalogEntry",
    "CatalogFile",
    "CatalogInstall",
    "CertificationComment",
    "CertificationRequest",
    "Certifications",
    "Connection",
    "Connections",
    "Connector",
    "ConnectorRevision",
    "ConnectorRevisionFile",
    "Connectors",
    "DataPolicies",
    "DataPolicy",
    "DataPolicyRule",
    "Database",
    "DatabaseReadOnly",
    "DatabaseUnavailable",
    "DirectConnection",
    "Environment",
    "EnvironmentGroupRole",
    "EnvironmentMember",
    "EnvironmentSetting",
    "EnvironmentVariable",
    "EnvironmentVariables",
    "Environments",
    "Event",
    "Events",
    "Flow",
    "FlowRun",
    "FlowRuns",
    "FlowTick",
    "FlowTrigger",
    "FlowTriggers",
    "Flows",
    "Gateway",
    "GatewayMember",
    "Gateways",
    "Grant",
    "Grants",
    "Group",
    "GroupMember",
    "Groups",
    "IdempotencyKeys",
    "IdempotencyRecord",
    "InstallSecret",
    "PendingConsent",
    "PersonalAccessToken",
    "PortalTestCall",
    "PortalTestCalls",
    "RunAction",
    "Tokens",
    "User",
    "Users",
    "Webhook",
    "WebhookDelivery",
    "Webhooks",
    "alembic_config",
    "append_event",
    "create_engine_for",
    "current_revision",
    "environment_name",
    "event_id",
    "flow_facts",
    "head_revision",
    "migrate",
    "new_id",
    "queue_deliveries",
    "subscribed_webhooks",
    "utcnow",
]
