from __future__ import annotations

import tether.services
import tether.store


def test_store_exports() -> None:
    assert sorted(tether.store.__all__) == sorted(
        [
            # events, webhooks and alerts
            "ALERT_RULE_KINDS", "DELIVERY_STATES", "AlertRule", "AlertSetting", "Alerts", "Event", "Events",
            "Webhook", "WebhookDelivery", "Webhooks", "append_event", "environment_name", "event_id",
            "flow_facts", "queue_deliveries", "subscribed_webhooks",
            "CONNECTION_STATUSES", "Connection", "Connections", "EnvironmentSetting", "InstallSecret",
            "PendingConsent", "MIGRATIONS_PATH", "ROLES", "SQLITE_BUSY_TIMEOUT_MS", "AuditEvent",
            "AuditLog", "Base",
            "Connector", "ConnectorRevision", "ConnectorRevisionFile", "Connectors", "Database",
            "DatabaseReadOnly", "DatabaseUnavailable", "DirectConnection", "Environment", "EnvironmentMember",
            "Environments",
            "PersonalAccessToken", "Tokens", "User", "Users", "alembic_config", "create_engine_for",
            "current_revision", "head_revision", "migrate", "new_id", "utcnow",
            # Flows and runs (issue "Triggers and flows")
            "Flow", "FlowRun", "FlowRuns", "FlowTick", "FlowTrigger", "FlowTriggers", "Flows", "RunAction",
            # Environment variables (issue 13)
            "EnvironmentVariable", "EnvironmentVariables",
            # Organization (issue 11)
            "EVERYONE", "GRANTEE_KINDS", "PERMISSIONS", "RESOURCE_KINDS", "EnvironmentGroupRole", "Grant",
            "Grants", "Group", "GroupMember", "Groups",
            # Certification, catalog and data policies (issue 16)
            "DLP_GROUPS", "REQUEST_STATES", "Catalog", "CatalogEntry", "CatalogFile", "CatalogInstall",
            "CertificationComment", "CertificationRequest", "Certifications", "DataPolicies", "DataPolicy",
            "DataPolicyRule",
            # On-premises gateway (issue 18)
            "MEMBER_STATUSES", "Gateway", "GatewayMember", "Gateways",
            # Idempotent creates (issue 19)
            "IdempotencyKeys", "IdempotencyRecord",
            # The portal's Test tab history (issue 15)
            "PortalTestCall", "PortalTestCalls",
        ]
    )  # fmt: skip
    for name in tether.store.__all__:
        assert hasattr(tether.store, name)


def test_services_exports() -> None:
    assert sorted(tether.services.__all__) == sorted(
        [
            # events, webhooks and alerts
            "DEFAULT_DIGEST_MINUTES", "DEFAULT_EVENT_RETENTION", "EVENT_TYPES", "AlertRuleInfo",
            "AlertSettingsInfo", "DeliveryInfo", "EventInfo", "WebhookInfo", "add_alert_rule",
            "create_webhook", "delete_alert_rule", "delete_webhook", "get_alert_settings", "get_webhook",
            "list_alert_rules",
            "list_deliveries", "list_events", "list_webhooks", "purge_events", "record_gateway_offline",
            "replay_delivery", "rotate_webhook_secret", "send_test_event", "set_alert_settings",
            "update_webhook",
            "ADMIN_USERNAME", "DEFAULT_ENVIRONMENT", "ROLES",
            "TOKEN_PREFIX", "BootstrapResult", "ConnectorInfo", "EnvironmentInfo", "MemberInfo",
            "Principal", "RevisionInfo", "TokenAuthenticator", "TokenInfo", "UserInfo",
            "add_member", "authenticate_password", "authenticate_token", "bootstrap",
            "create_connector", "create_environment", "create_token",
            "create_user", "delete_connector", "get_connector", "get_environment", "get_revision_files",
            "get_user", "list_connectors", "list_environments", "list_members", "list_revisions",
            "list_tokens", "remove_member", "revoke_token", "rollback_connector", "slugify",
            "update_connector",
            # Connections (issue "Connections and authentication")
            "CONSENT_COOKIE", "ConnectionForm", "ConnectionInfo", "ConnectionTest", "ConnectionTokenSource",
            "ConnectorOAuth", "ConsentRedirect", "ConsentRefused", "ConsentResult", "ConsentStart",
            "DEFAULT_REFRESH_SKEW", "EnvironmentSettingsInfo", "FormField", "KeyRotation", "ParameterSetForm",
            "RedirectMigrationRequired", "RedirectSwitch", "begin_consent", "build_connection_form",
            "check_values", "complete_consent", "connection_form", "connector_oauth", "create_connection",
            "delete_connection", "get_connection", "get_environment_settings", "list_connections",
            "open_consent", "read_consent_cookie", "rotate_keys", "set_environment_settings",
            "set_redirect_mode", "test_connection", "update_connection",
            # Flows and runs (issue "Triggers and flows")
            "DEFAULT_RUN_RETENTION", "ActionInfo", "FlowInfo",
            "RunDetail", "RunInfo", "callback_url", "cancel_run", "create_flow", "delete_flow",
            "get_flow", "get_run", "invoke_trigger", "list_flows", "list_runs", "purge_runs", "resubmit_run",
            "set_flow_enabled", "start_run", "update_flow",
            # Invoking operations (issue "Runtime")
            "ConnectionNeedsAttention", "ConnectorCache", "ConnectorRunner",
            "InvokeAnswer", "PassThrough", "invoke_operation", "pass_through",
            # Environment variables (issue 13)
            "EnvironmentVariableInfo", "delete_environment_variable", "list_environment_variables",
            "set_environment_variable",
            # OAuth renewal and throttled login (issue 10 "Security")
            "DEFAULT_REFRESH_POLICY", "LoginThrottle", "LoginThrottled", "RefreshPolicy",
            "configure_token_refresh",
            # Organization (issue 11)
            "DEFAULT_AUDIT_RETENTION", "OFFERED", "SSO_COOKIE", "SSO_TTL", "AccessInfo", "AuditEntry",
            "GrantInfo", "GroupInfo", "NoLongerShared", "SsoLogin", "SsoStart", "add_group_member",
            "begin_sso", "complete_sso", "create_group", "delete_group", "list_audit", "list_groups",
            "list_users", "purge_audit", "remove_group_member", "resource_access", "set_group_role",
            "share_resource", "unshare_resource",
            # Certification, catalog and data policies (issue 16)
            "BUILTIN_CONNECTORS", "DLP_GROUPS", "VERDICTS", "CatalogEntryInfo", "CertificationFailed",
            "CertificationInfo", "ClassifiedConnector", "CommentInfo", "DataPolicyInfo",
            "DataPolicyViolation",
            "certification_status", "classify_connector", "get_catalog_entry", "get_certification_request",
            "get_data_policy", "install_catalog_entry", "list_catalog", "list_certification_requests",
            "review_certification", "set_certifier", "set_data_policy", "submit_certification",
            # Agents and apps (issue 17): the operations listing, and what AI agents may use
            "OperationInfo", "get_operation", "list_operations", "DynamicCache", "DynamicValue",
            "DynamicValuesFailed", "connection_openapi", "list_dynamic_values", "resolve_operation",
            "ON_DEMAND_TRIGGERS", "AgentAccess", "AgentNotAllowed", "agent_connections", "agent_flows",
            "agent_invoke", "check_agent_connection",
            # Governance, the admin side (issue 16): inventory, shipped flows, solutions
            "ConnectorInventoryItem", "FlowTemplate", "InventoryPage", "OAuthParameterInfo", "SolutionReport",
            "builtin_solution", "export_solution", "flow_template", "import_solution",
            "list_connector_inventory", "list_flow_templates",
            # On-premises gateway (issue 18)
            "MIN_AGENT_VERSION", "AgentIdentity", "AgentRegistration", "GatewayInfo", "GatewayMemberInfo",
            "authenticate_agent", "check_agent_version", "create_gateway", "gateway_public_key",
            "issue_registration_token", "list_gateway_members", "list_gateways", "note_agent_contact",
            "register_agent", "remove_gateway_member",
            # ETags and idempotent creates (issue 19)
            "IDEMPOTENCY_TTL", "IdempotencyInProgress", "IdempotencyKeyReused", "StoredAnswer",
            "claim_idempotency_key", "prune_idempotency_keys", "release_idempotency_key", "resource_etag",
            "store_idempotent_answer",
            # The portal's Test tab history (issue 15)
            "TEST_CALLS_KEPT", "TestCallInfo", "list_test_calls", "record_test_call",
            # The portal's connector list (issue 15)
            "ConnectorDirectory",
            # The portal's admin page and the sign-in that returns to the page that started it (issue 15)
            "ConnectorRedirect", "EnvironmentOverview", "environment_overview",
            "CONSENT_RETURN_COOKIE", "safe_return_path",
        ]
    )  # fmt: skip
    for name in tether.services.__all__:
        assert hasattr(tether.services, name)


def test_hosting_exports() -> None:
    import tether.hosting

    assert sorted(tether.hosting.__all__) == sorted(
        [
            "ClaimedRun",
            "ConnectorTriggers",
            "DispatchOptions",
            "EventDispatcher",
            "FlowConnectorCaller",
            "FlowHost",
            "RecurrenceScheduler",
            "advance_run",
            "claim_run",
        ]
    )
    for name in tether.hosting.__all__:
        assert hasattr(tether.hosting, name)
