"""Use cases: the one place where permissions are checked.

The API, portal, CLI and MCP call these functions with a :class:`Principal` (from
:func:`authenticate_password` or :func:`authenticate_token`) and a :class:`~tether.store.Database`;
they get back plain frozen dataclasses and ``dict[str, bytes]`` files, never ORM rows.

Roles in an environment: ``admin`` ⊃ ``maker`` ⊃ ``user``. Users read, makers change connectors,
admins manage members. Platform admins (``Principal.is_admin``) act as admin everywhere.
A caller who is not a member of an environment is told it does not exist (:class:`NotFound`).
"""

from __future__ import annotations

from tether.services._access import ROLES, Principal
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
from tether.services._identity import (
    ADMIN_USERNAME,
    TOKEN_PREFIX,
    BootstrapResult,
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
from tether.services._names import slugify

__all__ = [
    "ADMIN_USERNAME",
    "DEFAULT_ENVIRONMENT",
    "ROLES",
    "TOKEN_PREFIX",
    "BootstrapResult",
    "ConnectorInfo",
    "EnvironmentInfo",
    "MemberInfo",
    "Principal",
    "RevisionInfo",
    "TokenInfo",
    "UserInfo",
    "add_member",
    "authenticate_password",
    "authenticate_token",
    "bootstrap",
    "create_connector",
    "create_environment",
    "create_token",
    "create_user",
    "delete_connector",
    "get_connector",
    "get_environment",
    "get_revision_files",
    "get_user",
    "list_connectors",
    "list_environments",
    "list_members",
    "list_revisions",
    "list_tokens",
    "remove_member",
    "revoke_token",
    "rollback_connector",
    "slugify",
    "update_connector",
]
