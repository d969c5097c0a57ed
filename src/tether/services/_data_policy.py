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
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from tether.errors import InputError, NotFound, ValidationFailed
from tether.flows import load_flow
from tether.flows.engine import NO_HOST_RULES, HostRules
from tether.services._access import Principal, require_role, standing
from tether.services._read_cache import ReadCache
from tether.store import (
    DLP_GROUPS,
    AuditLog,
    Catalog,
    Connections,
    Connector,
    Connectors,
    Database,
    DataPolicies,
    Environment,
    Flow,
    Flows,
    utcnow,
)

__all__ = [
    "BUILTIN_CONNECTORS",
    "DLP_GROUPS",
    "ClassifiedConnector",
    "DataPolicyInfo",
    "DataPolicyViolation",
    "check_flow_policy",
    "check_flow_row",
    "classify_connector",
    "flow_http_rules",
    "get_data_policy",
    "set_data_policy",
]

# Built-in connectors a flow can use without a connection: key suffix -> display name.
BUILTIN_CONNECTORS: Final = {"http": "HTTP"}
# Which built-in each trigger/action type is.
_BUILTIN_OF_TYPE: Final = {"Http": "http", "HttpWebhook": "http"}
_CONNECTION_TYPES: Final = frozenset(
    {"ApiConnection", "OpenApiConnection", "ApiConnectionWebhook", "OpenApiConnectionWebhook"}
)
_REFERENCE: Final = re.compile(r"\[\s*'([^']+)'\s*\]")
MAX_HOST_PATTERNS: Final = 100
_HOST_PATTERN: Final = re.compile(r"^[a-z0-9*]([a-z0-9*\-.]*[a-z0-9*])?$")


class DataPolicyViolation(ValidationFailed):
    """A flow breaks its environment's data policy (mixing groups, a blocked connector, a denied host)."""

    code = "data-policy-violation"


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


def _connector_key(connector: Connector, catalog_names: Mapping[str, str]) -> str:
    entry = catalog_names.get(connector.id)
    return f"catalog:{entry}" if entry else connector.id


def _known(session: Session, environment: Environment) -> dict[str, tuple[str, str]]:
    """Every connector of the environment: key -> (name, kind)."""
    known = {f"builtin:{name}": (label, "builtin") for name, label in BUILTIN_CONNECTORS.items()}
    rows = Connectors(session).list(environment.id)
    catalog_names = Catalog(session).installed_from([row.id for row in rows])
    for row in rows:
        key = _connector_key(row, catalog_names)
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
    return _connector_key(row, Catalog(session).installed_from([row.id]))


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


def _flow_keys(
    session: Session, environment: Environment, definition: Mapping[str, Any], connections: Mapping[str, Any]
) -> dict[str, str]:
    """The connectors a flow uses: key -> a label naming it for people."""
    loaded = load_flow(definition)
    used: dict[str, str] = {}
    connection_ids = {str(value) for value in connections.values()}
    specs: list[tuple[str, Mapping[str, Any]]] = [(t.type, t.raw) for t in loaded.triggers.values()]
    specs += [(a.type, a.raw) for a in loaded.all_actions()]
    for kind, raw in specs:
        builtin = _BUILTIN_OF_TYPE.get(kind)
        if builtin is not None:
            used[f"builtin:{builtin}"] = f"{BUILTIN_CONNECTORS[builtin]} (builtin:{builtin})"
        elif kind in _CONNECTION_TYPES:
            reference = _named_connection(raw)
            if reference is not None:
                connection_ids.add(str(connections.get(reference, reference)))
    rows = [Connections(session).find(environment.id, cid) for cid in sorted(connection_ids)]
    connectors = {row.connector_id: row.connector for row in rows if row is not None}
    catalog_names = Catalog(session).installed_from(list(connectors))
    for connector in connectors.values():
        key = _connector_key(connector, catalog_names)
        used[key] = f"{connector.name} ({key})"
    return used


def _named_connection(raw: Mapping[str, Any]) -> str | None:
    """The connection reference (or id) an action names, read without evaluating expressions."""
    inputs = raw.get("inputs")
    host = inputs.get("host") if isinstance(inputs, Mapping) else None
    if not isinstance(host, Mapping):
        return None
    connection = host.get("connection")
    if isinstance(connection, Mapping):
        name = connection.get("name") or connection.get("referenceName")
    else:
        name = host.get("connectionName")
    if not isinstance(name, str) or not name:
        return None
    if name.startswith("@"):
        found = _REFERENCE.findall(name)
        names = [n for n in found if n != "$connections" and n != "connectionId"]
        return names[0] if names else None
    return name


def _violation(
    session: Session, environment: Environment, definition: Mapping[str, Any], connections: Mapping[str, Any]
) -> str | None:
    """Why the flow breaks the policy (every reason, one sentence each), or None."""
    policy = DataPolicies(session).get(environment.id)
    if policy is None:
        return None
    rules = DataPolicies(session).rules(environment.id)
    used = _flow_keys(session, environment, definition, connections)
    groups: dict[str, list[str]] = {group: [] for group in DLP_GROUPS}
    for key, label in sorted(used.items(), key=lambda item: item[1]):
        groups[rules.get(key, policy.default_group)].append(label)
    reasons: list[str] = []
    if groups["blocked"]:
        reasons.append(f"it uses blocked connector(s) {', '.join(groups['blocked'])}")
    if groups["business"] and groups["non-business"]:
        reasons.append(
            f"it mixes business connector(s) {', '.join(groups['business'])} with non-business "
            f"connector(s) {', '.join(groups['non-business'])}"
        )
    reasons += _static_host_refusals(
        definition, HostRules.of(policy.http_allowed_hosts, policy.http_denied_hosts)
    )
    if not reasons:
        return None
    return f"environment {environment.name!r}'s data policy forbids this flow: " + "; ".join(reasons)


def _static_host_refusals(definition: Mapping[str, Any], rules: HostRules) -> list[str]:
    if rules == NO_HOST_RULES:
        return []
    refusals = []
    for action in load_flow(definition).all_actions():
        uri = (
            action.inputs.get("uri") if action.type == "Http" and isinstance(action.inputs, Mapping) else None
        )
        if not isinstance(uri, str) or "@" in uri:
            continue  # an expression: checked when the run sends it
        host = urlsplit(uri).hostname
        refusal = rules.refusal(host) if host else None
        if refusal:
            refusals.append(f"Http action {action.name!r} calls {refusal}")
    return refusals


def check_flow_policy(
    session: Session, environment: Environment, definition: Mapping[str, Any], connections: Mapping[str, Any]
) -> None:
    """Raise :class:`DataPolicyViolation` if the flow may not be saved or enabled here."""
    reason = _violation(session, environment, definition, connections)
    if reason is not None:
        raise DataPolicyViolation(
            reason + ". Change the flow, or ask an environment admin to reclassify ('tether env dlp').",
            issues=[{"rule": "data-policy", "message": reason}],
        )


def check_flow_row(session: Session, flow: Flow) -> None:
    """:func:`check_flow_policy` for a saved flow: a run started by hand (or resubmitted) of a
    disabled flow must not do what its environment's policy now forbids."""
    environment = session.get(Environment, flow.environment_id)
    if environment is not None:
        check_flow_policy(session, environment, flow.definition, flow.connections)


def suspend_noncompliant(session: Session, environment: Environment) -> list[str]:
    """Switch off every enabled flow of ``environment`` that breaks its policy; their names."""
    from tether.services._flows import schedule  # the flows module imports this one

    suspended = []
    for flow in Flows(session).list(environment.id):
        if not flow.enabled:
            continue
        reason = _violation(session, environment, flow.definition, flow.connections)
        if reason is None:
            continue
        flow.enabled = False
        flow.suspended_reason = f"Suspended on {utcnow():%Y-%m-%d %H:%M} UTC: {reason}."
        flow.updated_at = utcnow()
        schedule(flow)
        suspended.append(flow.name)
        AuditLog(session).record(
            "flow.suspend",
            actor=None,
            environment=environment.id,
            target=f"flow:{flow.id}",
            detail={"name": flow.name, "reason": reason},
            via="system",
        )
    session.flush()
    return suspended


# Per database: each flow's endpoint rules, read once and kept until the policy (or flow) changes.
_flow_rules: weakref.WeakKeyDictionary[Database, ReadCache[HostRules]] = weakref.WeakKeyDictionary()


async def flow_http_rules(db: Database, flow_id: str) -> HostRules:
    """The Http endpoint rules of the environment ``flow_id`` belongs to (runs check them)."""
    cache = _flow_rules.get(db)
    if cache is None:
        cache = _flow_rules.setdefault(db, ReadCache(db, ("data_policies", Flow.__tablename__)))

    def read() -> tuple[HostRules, None]:
        with db.session() as session:
            flow = session.get(Flow, flow_id)
            policy = DataPolicies(session).get(flow.environment_id) if flow is not None else None
            if policy is None:
                return NO_HOST_RULES, None
            return HostRules.of(policy.http_allowed_hosts, policy.http_denied_hosts), None

    return await cache.read_through(flow_id, read)
