"""Flow use cases: create, update, enable/disable, delete, list and show flows.

Roles: makers (and admins) create, change, switch on/off and delete flows; every member (the
``user`` role included) reads flows and their runs, starts runs by hand, resubmits and cancels
them — as Power Automate's run-only users can. Purging old runs is for platform admins.
A definition is validated (every issue at once) before it is saved, and its ``$connections``
reference names must map to connections of the same environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tether.errors import Conflict, InputError, NotFound
from tether.flows import ensure_valid, load_flow
from tether.flows.engine import REDACTED, Recurrence
from tether.secrets import KeyRing
from tether.services._access import Principal, require_role, resolve_environment
from tether.services._flow_kind import (
    DEFAULT_RUN_HISTORY,
    RunHistory,
    check_stateless,
    document_kind,
    flow_kind,
)
from tether.services._names import check_slug
from tether.services._run_secrets import hide_sealed, seal_parameters, secure_parameter_names
from tether.store import AuditLog, Connections, Database, Environment, Flow, Flows, utcnow

__all__ = [
    "FlowInfo",
    "create_flow",
    "delete_flow",
    "get_flow",
    "list_flows",
    "set_flow_enabled",
    "update_flow",
]


@dataclass(frozen=True, slots=True)
class FlowInfo:
    """A flow as callers see it; ``definition`` is the workflow definition object."""

    id: str
    environment: str
    name: str
    display_name: str
    enabled: bool
    trigger_name: str | None
    trigger_type: str | None
    connections: dict[str, str]
    parameters: dict[str, Any]
    version: int
    next_fire_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    definition: dict[str, Any]
    kind: str = "Stateful"  # or "Stateless": runs in memory, see services/_flow_kind.py
    run_history: str = DEFAULT_RUN_HISTORY  # what a stateless flow keeps of its runs


def flow_info(flow: Flow, environment: Environment) -> FlowInfo:
    loaded = load_flow(flow.definition)
    trigger = loaded.trigger
    return FlowInfo(
        id=flow.id,
        environment=environment.name,
        name=flow.name,
        display_name=flow.display_name,
        enabled=flow.enabled,
        trigger_name=trigger.name if trigger else None,
        trigger_type=flow.trigger_type,
        connections=dict(flow.connections),
        parameters=hide_sealed(dict(flow.parameters)),
        version=flow.version,
        next_fire_at=flow.next_fire_at,
        created_by=flow.created_by,
        created_at=flow.created_at,
        updated_at=flow.updated_at,
        definition=dict(flow.definition),
        kind=flow.kind,
        run_history=flow.run_history,
    )


def _sealed(
    definition: Mapping[str, Any], values: Mapping[str, Any], keyring: KeyRing | None
) -> dict[str, Any]:
    """Parameter values as stored: the secure ones sealed when there is a key ring."""
    if keyring is None:
        return dict(values)
    return seal_parameters(values, secure_parameter_names(definition), keyring)


def find_flow(session: Session, environment: Environment, flow: str, *, for_update: bool = False) -> Flow:
    found = Flows(session).find(environment.id, flow, for_update=for_update)
    if found is None:
        raise NotFound(f"Flow {flow!r} not found in environment {environment.name!r}.")
    return found


def _checked_definition(definition: Any, name: str) -> dict[str, Any]:
    """The bare definition object, validated; raises ValidationFailed with every issue."""
    loaded = ensure_valid(load_flow(definition, name=name), name=name)
    if loaded.trigger is None:
        raise InputError(f"{name}: a flow needs a trigger (Request, Recurrence, …)")
    return dict(loaded.raw)


def _checked_kind(
    definition: dict[str, Any], name: str, kind: str, run_history: str
) -> tuple[str, str]:
    """The flow's kind and run-history setting, normalized; a stateless flow's limits checked."""
    if kind == "Stateless":
        check_stateless(load_flow(definition), name)
    return kind, RunHistory.parse(run_history).text


def _check_connections(
    session: Session, environment: Environment, connections: Mapping[str, str], principal: Principal
) -> None:
    """Each mapped connection exists here and belongs to the caller.

    A flow acts with its connections' credentials, so putting a colleague's connection in your
    flow would borrow their identity: only the connection's owner may (sharing comes later).
    """
    repository = Connections(session)
    for reference, connection_id in connections.items():
        found = repository.find(environment.id, str(connection_id))
        if found is None or found.owner_id != principal.user_id:
            raise InputError(
                f"connection {connection_id!r} (for '{reference}') is not one of your connections in "
                f"environment {environment.name!r}; a flow can use only connections you own "
                "(list them with 'tether connection list')"
            )


def schedule(flow: Flow, *, now: datetime | None = None) -> None:
    """Set ``next_fire_at`` for an enabled Recurrence flow (None otherwise)."""
    loaded = load_flow(flow.definition)
    trigger = loaded.trigger
    flow.trigger_type = trigger.type if trigger else None
    if not flow.enabled or trigger is None or trigger.type != "Recurrence":
        flow.next_fire_at = None
        return
    now = now or utcnow()
    flow.next_fire_at = Recurrence.from_trigger(trigger.raw).next_after(now, anchor=now)


def _record(session: Session, action: str, principal: Principal, flow: Flow) -> None:
    AuditLog(session).record(
        action,
        actor=principal.username,
        environment=flow.environment_id,
        target=f"flow:{flow.id}",
        detail={"name": flow.name, "version": flow.version},
    )


def create_flow(
    db: Database,
    principal: Principal,
    environment: str,
    definition: Any,
    *,
    name: str,
    display_name: str | None = None,
    connections: Mapping[str, str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    enabled: bool = True,
    keyring: KeyRing | None = None,
    kind: str | None = None,
    run_history: str | None = None,
) -> FlowInfo:
    """Save a new flow (makers). Raises Conflict when the name is taken in the environment.

    With ``keyring``, SecureString/SecureObject parameter values are stored sealed.
    ``kind``: Stateful (default) or Stateless; when not given, a ``workflow.json``'s own ``kind``.
    """
    check_slug(name, what="flow")
    raw = _checked_definition(definition, name)
    chosen = flow_kind(kind) if kind is not None else document_kind(definition) or "Stateful"
    chosen, history = _checked_kind(raw, name, chosen, run_history or DEFAULT_RUN_HISTORY)
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "maker", action="create flows")
        if Flows(session).find(env.id, name) is not None:
            raise Conflict(f"A flow named {name!r} already exists in environment {env.name!r}.")
        _check_connections(session, env, connections or {}, principal)
        flow = Flow(
            environment_id=env.id,
            name=name,
            display_name=display_name or name,
            definition=raw,
            connections=dict(connections or {}),
            parameters=_sealed(raw, parameters or {}, keyring),
            enabled=enabled,
            kind=chosen,
            run_history=history,
            version=1,
            created_by=principal.user_id,
        )
        schedule(flow)
        Flows(session).add(flow)
        _record(session, "flow.create", principal, flow)
        return flow_info(flow, env)


def update_flow(
    db: Database,
    principal: Principal,
    environment: str,
    flow: str,
    *,
    definition: Any = None,
    display_name: str | None = None,
    connections: Mapping[str, str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    keyring: KeyRing | None = None,
    kind: str | None = None,
    run_history: str | None = None,
) -> FlowInfo:
    """Change a flow (makers); runs already started keep the definition they started with.

    A secure parameter whose new value is the redaction marker (what ``show`` gave) keeps its
    stored value, so a definition edited from a download does not wipe its secrets.
    ``kind`` (or a new ``workflow.json``'s own ``kind``) switches Stateful/Stateless.
    """
    raw = _checked_definition(definition, flow) if definition is not None else None
    wanted = flow_kind(kind) if kind is not None else document_kind(definition)
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "maker", action="change flows")
        row = find_flow(session, env, flow, for_update=True)
        if raw is not None:
            row.definition = raw
        if raw is not None or wanted is not None or run_history is not None:
            row.kind, row.run_history = _checked_kind(
                row.definition, flow, wanted or row.kind, run_history or row.run_history
            )
        if connections is not None:
            _check_connections(session, env, connections, principal)
            row.connections = {**row.connections, **connections}
        if parameters is not None:
            kept = {
                name: row.parameters.get(name, value) if value == REDACTED else value
                for name, value in parameters.items()
            }
            row.parameters = _sealed(row.definition, kept, keyring)
        elif raw is not None:
            row.parameters = _sealed(row.definition, row.parameters, keyring)
        if display_name is not None:
            row.display_name = display_name
        row.version += 1
        row.updated_at = utcnow()
        schedule(row)
        _record(session, "flow.update", principal, row)
        return flow_info(row, env)


def set_flow_enabled(
    db: Database, principal: Principal, environment: str, flow: str, enabled: bool
) -> FlowInfo:
    """Switch a flow on or off (makers). A disabled flow's triggers do not fire; manual runs still work."""
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "maker", action="enable or disable flows")
        row = find_flow(session, env, flow, for_update=True)
        row.enabled = enabled
        row.updated_at = utcnow()
        schedule(row)
        _record(session, "flow.enable" if enabled else "flow.disable", principal, row)
        return flow_info(row, env)


def delete_flow(db: Database, principal: Principal, environment: str, flow: str) -> None:
    """Delete a flow and its run history (makers)."""
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "maker", action="delete flows")
        row = find_flow(session, env, flow)
        _record(session, "flow.delete", principal, row)
        Flows(session).delete(row)


def list_flows(db: Database, principal: Principal, environment: str) -> list[FlowInfo]:
    with db.session() as session:
        env, _role = resolve_environment(session, principal, environment)
        return [flow_info(f, env) for f in Flows(session).list(env.id)]


def get_flow(db: Database, principal: Principal, environment: str, flow: str) -> FlowInfo:
    with db.session() as session:
        env, _role = resolve_environment(session, principal, environment)
        return flow_info(find_flow(session, env, flow), env)
