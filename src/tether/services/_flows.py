"""Flow use cases: create, update, enable/disable, delete, list and show flows.

Makers create flows and own them. Owners and co-owners (Can edit) change, switch on/off, share and
delete them and read, cancel and resubmit their runs; run-only users (Can run) see the flow and
start it — as in Power Automate. Environment admins may do all of it. Purging old runs is for
platform admins.
A definition is validated (every issue at once) before it is saved, and its ``$connections``
reference names must map to connections of the same environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from tether.errors import Conflict, InputError, NotFound
from tether.flows import ensure_valid, load_flow
from tether.flows.engine import REDACTED, Recurrence
from tether.secrets import KeyRing
from tether.services._access import (
    RULES,
    NoLongerShared,
    Principal,
    Standing,
    allows,
    check,
    relation_to,
    require_role,
    standing,
    standing_of_user,
)
from tether.services._etags import check_if_match
from tether.services._flow_compliance import check_flow_policy
from tether.services._flow_kind import (
    DEFAULT_RUN_HISTORY,
    RunHistory,
    check_stateless,
    document_kind,
    flow_kind,
)
from tether.services._names import check_slug
from tether.services._run_secrets import hide_sealed, seal_parameters, secure_parameter_names
from tether.services._sharing import readable_ids
from tether.store import AuditLog, Connections, Database, Environment, Flow, Flows, Grants, Users, utcnow

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
    # Why a data policy change switched the flow off (None unless it did; cleared on enabling).
    suspended_reason: str | None = None


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
        suspended_reason=flow.suspended_reason,
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


def checked_flow(
    session: Session, who: Standing, flow: str, operation: str, *, for_update: bool = False
) -> Flow:
    """The flow if ``who`` may ``operation`` it (see ``_access.RULES``); unseen flows are "not found"."""
    found = find_flow(session, who.environment, flow, for_update=for_update)
    label = f"Flow {flow!r}"
    check(session, who, "flow", operation, resource_id=found.id, owner_id=found.created_by, label=label)
    return found


def check_bindings(session: Session, flow: Flow) -> None:
    """Raise :class:`NoLongerShared` if the flow's owner may no longer use a connection bound to it.

    A flow acts with its connections; one shared with its owner (Can use) stops working for the
    flow when the share is revoked, and the run must say so rather than fail obscurely.
    """
    env = flow.environment_id
    repository = Connections(session)
    owner = Users(session).get(flow.created_by) if flow.created_by else None
    for reference, connection_id in flow.connections.items():
        row = repository.find(env, str(connection_id))
        if row is None:
            raise NoLongerShared(
                f"connection {connection_id!r} (for '{reference}') of flow {flow.name!r} no longer exists; "
                "map another connection with 'tether flow update'"
            )
        if owner is None or row.owner_id == owner.id:
            continue
        environment = session.get(Environment, env)
        who = standing_of_user(session, environment, owner.id, is_admin=False) if environment else None
        relation = relation_to(session, who, "connection", row.id, row.owner_id) if who else None
        if who is None or not allows(RULES[("connection", "invoke")], who.role, relation):
            raise NoLongerShared(
                f"connection {row.display_name!r} ({row.id}, for '{reference}') is no longer shared with "
                f"{owner.username!r}, the owner of flow {flow.name!r}: ask {row.owner.username!r} to share "
                "it again or map another connection"
            )


# A run's ``$connections`` entry for a binding whose share was revoked: the run fails at that action
# saying so (prepare_by_id reads the prefix), instead of acting with credentials no longer lent.
NO_LONGER_SHARED: Final = "no-longer-shared:"


def revoked_connections(session: Session, flow: Flow) -> set[str]:
    """Ids of connections bound to ``flow`` that are no longer shared with its owner.

    Runs of every trigger pass through here when they are created, so it costs nothing for a flow
    without connections and one primary-key read per binding to the owner's own connections.
    """
    revoked: set[str] = set()
    if not flow.connections:
        return revoked
    repository = Connections(session)
    environment: Environment | None = None
    rule = RULES[("connection", "invoke")]
    for connection_id in flow.connections.values():
        row = repository.get(str(connection_id))
        if row is None or row.owner_id == flow.created_by:
            continue  # a deleted connection fails on its own ("no longer exists")
        environment = environment or session.get(Environment, flow.environment_id)
        owner = Users(session).get(flow.created_by) if flow.created_by else None
        who = None
        if environment is not None and owner is not None:
            who = standing_of_user(session, environment, owner.id, is_admin=False)
        relation = relation_to(session, who, "connection", row.id, row.owner_id) if who else None
        if who is None or not allows(rule, who.role, relation):
            revoked.add(row.id)
    return revoked


def mark_revoked(parameters: dict[str, Any], revoked: set[str]) -> dict[str, Any]:
    """``parameters`` with the ``$connections`` entries of ``revoked`` connections marked (see above)."""
    connections = parameters.get("$connections")
    if not revoked or not isinstance(connections, dict):
        return parameters
    for entry in connections.values():
        if isinstance(entry, dict) and entry.get("connectionId") in revoked:
            marked = f"{NO_LONGER_SHARED}{entry['connectionId']}"
            entry.update(connectionId=marked, id=marked)
    return parameters


def _checked_definition(definition: Any, name: str) -> dict[str, Any]:
    """The bare definition object, validated; raises ValidationFailed with every issue."""
    loaded = ensure_valid(load_flow(definition, name=name), name=name)
    if loaded.trigger is None:
        raise InputError(f"{name}: a flow needs a trigger (Request, Recurrence, …)")
    return dict(loaded.raw)


def _checked_kind(definition: dict[str, Any], name: str, kind: str, run_history: str) -> tuple[str, str]:
    """The flow's kind and run-history setting, normalized; a stateless flow's limits checked."""
    if kind == "Stateless":
        check_stateless(load_flow(definition), name)
    return kind, RunHistory.parse(run_history).text


def _check_connections(session: Session, who: Standing, connections: Mapping[str, str]) -> None:
    """Each mapped connection exists here and the caller may bind it: they own it, or it is shared
    with them (Can use).

    A flow acts with its connections' credentials, so putting a colleague's connection in your
    flow borrows their identity: only where they shared it with you.
    """
    repository = Connections(session)
    environment = who.environment
    rule = RULES[("connection", "bind")]
    for reference, connection_id in connections.items():
        found = repository.find(environment.id, str(connection_id))
        relation = relation_to(session, who, "connection", found.id, found.owner_id) if found else None
        if found is None or not allows(rule, who.role, relation):
            raise InputError(
                f"connection {connection_id!r} (for '{reference}') is not one of your connections in "
                f"environment {environment.name!r}, nor shared with you; a flow can use only connections "
                "you own or that are shared with you (list them with 'tether connection list')"
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
        via=principal.via,
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
        who = standing(session, principal, environment)
        env = who.environment
        require_role(who.role, "maker", action="create flows")
        if Flows(session).find(env.id, name) is not None:
            raise Conflict(f"A flow named {name!r} already exists in environment {env.name!r}.")
        _check_connections(session, who, connections or {})
        check_flow_policy(session, env, raw, connections or {})
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
    if_match: str | None = None,
) -> FlowInfo:
    """Change a flow (makers); runs already started keep the definition they started with.

    A secure parameter whose new value is the redaction marker (what ``show`` gave) keeps its
    stored value, so a definition edited from a download does not wipe its secrets.
    ``kind`` (or a new ``workflow.json``'s own ``kind``) switches Stateful/Stateless.
    """
    raw = _checked_definition(definition, flow) if definition is not None else None
    wanted = flow_kind(kind) if kind is not None else document_kind(definition)
    with db.session() as session:
        who = standing(session, principal, environment)
        env = who.environment
        row = checked_flow(session, who, flow, "update", for_update=True)
        _check_if_match(session, row, if_match)
        if raw is not None:
            row.definition = raw
        if raw is not None or wanted is not None or run_history is not None:
            row.kind, row.run_history = _checked_kind(
                row.definition, flow, wanted or row.kind, run_history or row.run_history
            )
        if connections is not None:
            _check_connections(session, who, connections)
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
        if raw is not None or connections is not None:
            check_flow_policy(session, env, row.definition, row.connections)
        row.version += 1
        row.updated_at = utcnow()
        schedule(row)
        _record(session, "flow.update", principal, row)
        return flow_info(row, env)


def set_flow_enabled(
    db: Database,
    principal: Principal,
    environment: str,
    flow: str,
    enabled: bool,
    *,
    if_match: str | None = None,
) -> FlowInfo:
    """Switch a flow on or off (makers). A disabled flow's triggers do not fire; manual runs still work.

    ``if_match``: the ETag the caller loaded (412 if the flow was saved since).
    """
    with db.session() as session:
        who = standing(session, principal, environment)
        env = who.environment
        row = checked_flow(session, who, flow, "update", for_update=True)
        _check_if_match(session, row, if_match)
        if enabled:
            check_flow_policy(session, env, row.definition, row.connections)
            row.suspended_reason = None
        row.enabled = enabled
        row.updated_at = utcnow()
        schedule(row)
        _record(session, "flow.enable" if enabled else "flow.disable", principal, row)
        return flow_info(row, env)


def delete_flow(
    db: Database, principal: Principal, environment: str, flow: str, *, if_match: str | None = None
) -> None:
    """Delete a flow and its run history (owners, co-owners, admins)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        row = checked_flow(session, who, flow, "delete", for_update=if_match is not None)
        _check_if_match(session, row, if_match)
        _record(session, "flow.delete", principal, row)
        Grants(session).drop_resource("flow", row.id)
        Flows(session).delete(row)


def _check_if_match(session: Session, row: Flow, if_match: str | None) -> None:
    what, target = f"Flow {row.name!r}", f"flow:{row.id}"
    check_if_match(session, if_match, resource_id=row.id, updated_at=row.updated_at, what=what, target=target)


def list_flows(db: Database, principal: Principal, environment: str) -> list[FlowInfo]:
    """The flows the caller owns, co-owns or may run (every flow for environment admins)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        rows = Flows(session).list(who.environment.id)
        visible = readable_ids(session, who, "flow", [(row.id, row.created_by) for row in rows])
        return [flow_info(f, who.environment) for f in rows if f.id in visible]


def get_flow(db: Database, principal: Principal, environment: str, flow: str) -> FlowInfo:
    """One flow (its owners, co-owners, run-only users, admins)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        return flow_info(checked_flow(session, who, flow, "read"), who.environment)
