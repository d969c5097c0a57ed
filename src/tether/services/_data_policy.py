"""Data policies (Power Platform's DLP): which connectors a flow may combine, and where Http may go.

Per environment, every connector is in one group: ``business``, ``non-business`` or ``blocked``;
connectors nobody classified are in the policy's default group (``non-business`` unless set).
A flow may not use a blocked connector, nor mix business with non-business ones: saving or
enabling such a flow is refused with the connectors and groups named. Reclassifying suspends
every enabled flow the change makes non-compliant, with the reason kept on the flow.

Connectors are identified stably, so a classification survives renames and re-imports:

- a custom connector by its id;
- one installed from the catalog by ``catalog:<entry name>`` (every install of it, alike);
- a built-in by ``builtin:<name>`` (:data:`BUILTIN_CONNECTORS`: the Http action and the HTTP webhook
  trigger are ``builtin:http``). Triggers, variables, control actions and Response are the flow's
  own machinery, not connectors, and are never classified (as in Power Platform's DLP).

Endpoint rules (allowed/denied host patterns) narrow the Http action: checked at save where the
URI is a literal, and at run time before each request (``tether.flows.engine.HostRules``).
Changing a policy is for environment admins; every member may read it (it explains refusals).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

from tether.errors import InputError, NotFound
from tether.services._access import Principal, require_role, standing
from tether.services._flow_compliance import (
    BUILTIN_CONNECTORS,
    DataPolicyViolation,
    connector_key,
    suspend_noncompliant,
)
from tether.store import (
    DLP_GROUPS,
    AuditLog,
    Catalog,
    Connectors,
    Database,
    DataPolicies,
    Environment,
    utcnow,
)

__all__ = [
    "BUILTIN_CONNECTORS",
    "DLP_GROUPS",
    "ClassifiedConnector",
    "DataPolicyInfo",
    "DataPolicyViolation",
    "classify_connector",
    "get_data_policy",
    "set_data_policy",
]

MAX_HOST_PATTERNS: Final = 100
_HOST_PATTERN: Final = re.compile(r"^[a-z0-9*]([a-z0-9*\-.]*[a-z0-9*])?$")


@dataclass(frozen=True, slots=True)
class ClassifiedConnector:
    """One connector of the environment and its group (``explicit``: classified, not the default)."""

    key: str
    name: str
    kind: str
    group: str
    explicit: bool


@dataclass(frozen=True, slots=True)
class DataPolicyInfo:
    """An environment's data policy; ``suspended`` lists flows a change just switched off."""

    environment: str
    default_group: str
    http_allowed_hosts: tuple[str, ...]
    http_denied_hosts: tuple[str, ...]
    connectors: tuple[ClassifiedConnector, ...]
    suspended: tuple[str, ...] = ()


def _known(session: Session, environment: Environment) -> dict[str, tuple[str, str]]:
    """Every connector of the environment: key -> (name, kind)."""
    known = {f"builtin:{name}": (label, "builtin") for name, label in BUILTIN_CONNECTORS.items()}
    rows = Connectors(session).list(environment.id)
    catalog_names = Catalog(session).installed_from([row.id for row in rows])
    for row in rows:
        key = connector_key(row, catalog_names)
        known[key] = (row.name, "catalog" if key.startswith("catalog:") else "custom")
    return known


def _info(session: Session, environment: Environment, suspended: Iterable[str] = ()) -> DataPolicyInfo:
    policy = DataPolicies(session).get(environment.id)
    rules = DataPolicies(session).rules(environment.id)
    default = policy.default_group if policy else "non-business"
    known = _known(session, environment)
    listed = [
        ClassifiedConnector(key, name, kind, rules.get(key, default), key in rules)
        for key, (name, kind) in sorted(known.items(), key=lambda item: (item[1][1], item[1][0]))
    ]
    return DataPolicyInfo(
        environment=environment.name,
        default_group=default,
        http_allowed_hosts=tuple(policy.http_allowed_hosts) if policy else (),
        http_denied_hosts=tuple(policy.http_denied_hosts) if policy else (),
        connectors=tuple(listed),
        suspended=tuple(suspended),
    )


def get_data_policy(db: Database, principal: Principal, environment: str) -> DataPolicyInfo:
    """The environment's policy and every connector's group (any member)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        return _info(session, who.environment)


def _group(value: str, what: str) -> str:
    if value not in DLP_GROUPS:
        raise InputError(f"{what}: unknown group {value!r}; use one of {', '.join(DLP_GROUPS)}.")
    return value


def _patterns(values: Iterable[str], what: str) -> list[str]:
    cleaned = [value.strip().lower().rstrip(".") for value in values if value.strip()]
    bad = [value for value in cleaned if not _HOST_PATTERN.match(value)]
    if bad:
        raise InputError(
            f"{what}: {', '.join(map(repr, bad))} are not host patterns; write host names with * "
            "wildcards, e.g. 'api.example.com' or '*.example.com' (no scheme, port or path)."
        )
    if len(cleaned) > MAX_HOST_PATTERNS:
        raise InputError(f"{what}: at most {MAX_HOST_PATTERNS} patterns.")
    return list(dict.fromkeys(cleaned))


def set_data_policy(
    db: Database,
    principal: Principal,
    environment: str,
    *,
    default_group: str | None = None,
    http_allowed_hosts: Iterable[str] | None = None,
    http_denied_hosts: Iterable[str] | None = None,
) -> DataPolicyInfo:
    """Change the default group and/or the Http endpoint rules (environment admins).

    Enabled flows the change makes non-compliant are suspended (listed in ``suspended``).
    """
    allowed = _patterns(http_allowed_hosts, "http_allowed_hosts") if http_allowed_hosts is not None else None
    denied = _patterns(http_denied_hosts, "http_denied_hosts") if http_denied_hosts is not None else None
    with db.session() as session:
        who = standing(session, principal, environment)
        require_role(who.role, "admin", action="change the data policy")
        policy = DataPolicies(session).get_or_add(who.environment.id)
        if default_group is not None:
            policy.default_group = _group(default_group, "default_group")
        if allowed is not None:
            policy.http_allowed_hosts = allowed
        if denied is not None:
            policy.http_denied_hosts = denied
        policy.updated_by, policy.updated_at = principal.username, utcnow()
        session.flush()
        _audit(session, principal, who.environment, "dlp.update", {"default_group": policy.default_group})
        suspended = suspend_noncompliant(session, who.environment)
        return _info(session, who.environment, suspended)


def classify_connector(
    db: Database, principal: Principal, environment: str, connector: str, group: str | None
) -> DataPolicyInfo:
    """Put ``connector`` in ``group`` (None: back to the default) (environment admins).

    ``connector`` is a key (``builtin:http``, ``catalog:NAME``, a connector id) or a custom
    connector's name. Enabled flows the change makes non-compliant are suspended.
    """
    if group is not None:
        _group(group, "group")
    with db.session() as session:
        who = standing(session, principal, environment)
        require_role(who.role, "admin", action="classify connectors")
        key = _resolve_key(session, who.environment, connector)
        DataPolicies(session).get_or_add(who.environment.id)
        DataPolicies(session).classify(who.environment.id, key, group)
        _audit(session, principal, who.environment, "dlp.classify", {"connector": key, "group": group})
        suspended = suspend_noncompliant(session, who.environment)
        return _info(session, who.environment, suspended)


def _resolve_key(session: Session, environment: Environment, connector: str) -> str:
    known = _known(session, environment)
    if connector in known:
        return connector
    if connector.startswith("builtin:"):
        raise NotFound(
            f"No built-in connector {connector!r}; built-ins are "
            + ", ".join(f"builtin:{name}" for name in BUILTIN_CONNECTORS)
        )
    if connector.startswith("catalog:"):
        # A catalog entry not installed here yet may be classified ahead of its first install.
        if Catalog(session).find(connector.removeprefix("catalog:")) is None:
            raise NotFound(f"No catalog entry {connector.removeprefix('catalog:')!r}.")
        return connector
    row = Connectors(session).find(environment.id, connector)
    if row is None:
        raise NotFound(f"Connector {connector!r} not found in environment {environment.name!r}.")
    return connector_key(row, Catalog(session).installed_from([row.id]))


def _audit(
    session: Session, principal: Principal, environment: Environment, action: str, detail: dict[str, Any]
) -> None:
    AuditLog(session).record(
        action,
        actor=principal.username,
        environment=environment.id,
        target=f"environment:{environment.id}",
        detail=detail,
        via=principal.via,
    )
