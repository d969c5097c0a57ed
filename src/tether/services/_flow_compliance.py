"""Whether a flow complies with its environment's data policy, and what happens when it stops to.

``services/_data_policy`` keeps the policy (groups, host rules); this module reads a flow's
connectors (see that module for how they are identified), refuses saving, enabling or starting a
flow that breaks the policy, suspends the enabled flows a policy change breaks, and hands runs the
Http host rules.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from tether.errors import ValidationFailed
from tether.flows import load_flow
from tether.flows.engine import NO_HOST_RULES, HostRules
from tether.services._read_cache import ReadCache
from tether.store import (
    DLP_GROUPS,
    AuditLog,
    Catalog,
    Connections,
    Connector,
    Database,
    DataPolicies,
    Environment,
    Flow,
    Flows,
    utcnow,
)

__all__ = [
    "BUILTIN_CONNECTORS",
    "DataPolicyViolation",
    "check_flow_policy",
    "check_flow_row",
    "connector_key",
    "flow_http_rules",
    "suspend_noncompliant",
]

# Built-in connectors a flow can use without a connection: key suffix -> display name.
BUILTIN_CONNECTORS: Final = {"http": "HTTP"}
# Which built-in each trigger/action type is.
_BUILTIN_OF_TYPE: Final = {"Http": "http", "HttpWebhook": "http"}
_CONNECTION_TYPES: Final = frozenset(
    {"ApiConnection", "OpenApiConnection", "ApiConnectionWebhook", "OpenApiConnectionWebhook"}
)
_REFERENCE: Final = re.compile(r"\[\s*'([^']+)'\s*\]")


class DataPolicyViolation(ValidationFailed):
    """A flow breaks its environment's data policy (mixing groups, a blocked connector, a denied host)."""

    code = "data-policy-violation"


def connector_key(connector: Connector, catalog_names: Mapping[str, str]) -> str:
    """The connector's stable key: ``catalog:<entry>`` when installed from the catalog, else its id."""
    entry = catalog_names.get(connector.id)
    return f"catalog:{entry}" if entry else connector.id


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
        key = connector_key(connector, catalog_names)
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
