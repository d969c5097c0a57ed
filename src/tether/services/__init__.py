"""Use cases: the one place where permissions are checked.

The API, portal, CLI and MCP call these functions with a :class:`Principal` (from
:func:`authenticate_password` or :func:`authenticate_token`) and a :class:`~tether.store.Database`;
they get back plain frozen dataclasses and ``dict[str, bytes]`` files, never ORM rows.

Roles in an environment: ``admin`` ⊃ ``maker`` ⊃ ``user``. Users read, makers change connectors,
admins manage members. Platform admins (``Principal.is_admin``) act as admin everywhere.
A caller who is not a member of an environment is told it does not exist (:class:`NotFound`).
"""

from __future__ import annotations

from tether.services._access import ROLES, NoLongerShared, Principal
from tether.services._audit_log import DEFAULT_AUDIT_RETENTION, AuditEntry, list_audit, purge_audit
from tether.services._connection_check import ConnectionTest, test_connection
from tether.services._connection_forms import FormField, ParameterSetForm, build_connection_form, check_values
from tether.services._connection_parts import ConnectionInfo
from tether.services._connection_status import ConnectionNeedsAttention
from tether.services._connection_tokens import (
    DEFAULT_REFRESH_POLICY,
    DEFAULT_REFRESH_SKEW,
    ConnectionTokenSource,
    RefreshPolicy,
    configure_token_refresh,
)
from tether.services._connections import (
    ConnectionForm,
    connection_form,
    create_connection,
    delete_connection,
    get_connection,
    list_connections,
    update_connection,
)
from tether.services._connector_cache import ConnectorCache
from tether.services._connector_runtime import ConnectorRuntime
from tether.services._connectors import (
    ConnectorInfo,
    RevisionInfo,
    create_connector,
    delete_connector,
    get_connector,
    get_revision_files,
    list_connectors,
    list_revisions,
    rollback_connector,
    update_connector,
)
from tether.services._consent import (
    CONSENT_COOKIE,
    ConsentRedirect,
    ConsentRefused,
    ConsentResult,
    ConsentStart,
    begin_consent,
    complete_consent,
    open_consent,
    read_consent_cookie,
)
from tether.services._directory import list_users
from tether.services._environment_variables import (
    EnvironmentVariableInfo,
    delete_environment_variable,
    list_environment_variables,
    set_environment_variable,
)
from tether.services._environments import (
    DEFAULT_ENVIRONMENT,
    EnvironmentInfo,
    MemberInfo,
    add_member,
    create_environment,
    get_environment,
    list_environments,
    list_members,
    remove_member,
)
from tether.services._flow_connector import FlowConnectorCaller
from tether.services._flow_journal import advance_run
from tether.services._flow_requests import callback_url, invoke_trigger
from tether.services._flow_runs import (
    DEFAULT_RUN_RETENTION,
    ActionInfo,
    RunDetail,
    RunInfo,
    cancel_run,
    get_run,
    list_runs,
    purge_runs,
    resubmit_run,
    start_run,
)
from tether.services._flow_runtime import FlowRuntime
from tether.services._flow_scheduler import RecurrenceScheduler
from tether.services._flow_triggers import ConnectorTriggers
from tether.services._flows import (
    FlowInfo,
    create_flow,
    delete_flow,
    get_flow,
    list_flows,
    set_flow_enabled,
    update_flow,
)
from tether.services._groups import (
    GroupInfo,
    add_group_member,
    create_group,
    delete_group,
    list_groups,
    remove_group_member,
    set_group_role,
)
from tether.services._identity import (
    ADMIN_USERNAME,
    TOKEN_PREFIX,
    BootstrapResult,
    TokenAuthenticator,
    TokenInfo,
    UserInfo,
    authenticate_password,
    authenticate_token,
    bootstrap,
    create_token,
    create_user,
    get_user,
    list_tokens,
    revoke_token,
)
from tether.services._invoke import InvokeAnswer, invoke_operation
from tether.services._keys import KeyRotation, rotate_keys
from tether.services._login_throttle import LoginThrottle, LoginThrottled
from tether.services._names import slugify
from tether.services._passthrough import PassThrough, pass_through
from tether.services._redirects import (
    ConnectorOAuth,
    EnvironmentSettingsInfo,
    RedirectMigrationRequired,
    RedirectSwitch,
    connector_oauth,
    get_environment_settings,
    set_environment_settings,
    set_redirect_mode,
)
from tether.services._sharing import (
    OFFERED,
    AccessInfo,
    GrantInfo,
    resource_access,
    share_resource,
    unshare_resource,
)
from tether.services._sso import SSO_COOKIE, SSO_TTL, SsoLogin, SsoStart, begin_sso, complete_sso

__all__ = [
    "ADMIN_USERNAME",
    "CONSENT_COOKIE",
    "DEFAULT_AUDIT_RETENTION",
    "DEFAULT_ENVIRONMENT",
    "DEFAULT_REFRESH_POLICY",
    "DEFAULT_REFRESH_SKEW",
    "DEFAULT_RUN_RETENTION",
    "OFFERED",
    "ROLES",
    "SSO_COOKIE",
    "SSO_TTL",
    "TOKEN_PREFIX",
    "AccessInfo",
    "ActionInfo",
    "AuditEntry",
    "BootstrapResult",
    "ConnectionForm",
    "ConnectionInfo",
    "ConnectionNeedsAttention",
    "ConnectionTest",
    "ConnectionTokenSource",
    "ConnectorCache",
    "ConnectorInfo",
    "ConnectorOAuth",
    "ConnectorRuntime",
    "ConnectorTriggers",
    "ConsentRedirect",
    "ConsentRefused",
    "ConsentResult",
    "ConsentStart",
    "EnvironmentInfo",
    "EnvironmentSettingsInfo",
    "EnvironmentVariableInfo",
    "FlowConnectorCaller",
    "FlowInfo",
    "FlowRuntime",
    "FormField",
    "GrantInfo",
    "GroupInfo",
    "InvokeAnswer",
    "KeyRotation",
    "LoginThrottle",
    "LoginThrottled",
    "MemberInfo",
    "NoLongerShared",
    "ParameterSetForm",
    "PassThrough",
    "Principal",
    "RecurrenceScheduler",
    "RedirectMigrationRequired",
    "RedirectSwitch",
    "RefreshPolicy",
    "RevisionInfo",
    "RunDetail",
    "RunInfo",
    "SsoLogin",
    "SsoStart",
    "TokenAuthenticator",
    "TokenInfo",
    "UserInfo",
    "add_group_member",
    "add_member",
    "advance_run",
    "authenticate_password",
    "authenticate_token",
    "begin_consent",
    "begin_sso",
    "bootstrap",
    "build_connection_form",
    "callback_url",
    "cancel_run",
    "check_values",
    "complete_consent",
    "complete_sso",
    "configure_token_refresh",
    "connection_form",
    "connector_oauth",
    "create_connection",
    "create_connector",
    "create_environment",
    "create_flow",
    "create_group",
    "create_token",
    "create_user",
    "delete_connection",
    "delete_connector",
    "delete_environment_variable",
    "delete_flow",
    "delete_group",
    "get_connection",
    "get_connector",
    "get_environment",
    "get_environment_settings",
    "get_flow",
    "get_revision_files",
    "get_run",
    "get_user",
    "invoke_operation",
    "invoke_trigger",
    "list_audit",
    "list_connections",
    "list_connectors",
    "list_environment_variables",
    "list_environments",
    "list_flows",
    "list_groups",
    "list_members",
    "list_revisions",
    "list_runs",
    "list_tokens",
    "list_users",
    "open_consent",
    "pass_through",
    "purge_audit",
    "purge_runs",
    "read_consent_cookie",
    "remove_group_member",
    "remove_member",
    "resource_access",
    "resubmit_run",
    "revoke_token",
    "rollback_connector",
    "rotate_keys",
    "set_environment_settings",
    "set_environment_variable",
    "set_flow_enabled",
    "set_group_role",
    "set_redirect_mode",
    "share_resource",
    "slugify",
    "start_run",
    "test_connection",
    "unshare_resource",
    "update_connection",
    "update_connector",
    "update_flow",
]
