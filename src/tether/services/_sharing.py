"""Sharing: grants of Can edit / Can use / Can run on connectors, connections and flows.

Power Platform's model: the maker owns what they make and shares it with users, groups or
everyone in the environment. Who may share is ``_access``'s rule ``(kind, "share")``; which
permissions each kind offers is :data:`OFFERED`. Every grant and revocation is audited, and a
revocation applies to the very next call in this process (grants are among the tables the invoke
path's read cache watches).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from tether.errors import InputError, NotFound
from tether.services._access import RULES, Principal, Standing, allows, check, standing
from tether.services._events import Subject, record_event
from tether.store import (
    EVERYONE,
    AuditLog,
    Connections,
    Connectors,
    Database,
    Flows,
    Gateways,
    Grant,
    Grants,
    Groups,
    Users,
)

__all__ = [
    "OFFERED",
    "AccessInfo",
    "GrantInfo",
    "readable_ids",
    "resource_access",
    "share_resource",
    "unshare_resource",
]

# The permissions a grant may give, per resource kind ("edit" makes a co-owner).
OFFERED: Final = {
    "connector": ("edit", "use"),
    "connection": ("use",),
    "flow": ("edit", "run"),
    "gateway": ("edit", "use"),
}
_LABEL: Final = {"connector": "Connector", "connection": "Connection", "flow": "Flow", "gateway": "Gateway"}


@dataclass(frozen=True, slots=True)
class GrantInfo:
    """One grant: to ``grantee`` (a user name, group name or ``everyone``) of ``permission``."""

    grantee_kind: str
    grantee: str
    permission: str
    granted_by: str | None
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class AccessInfo:
    """Who may do what with one resource, and (connectors) recent changes to where credentials go."""

    kind: str
    id: str
    name: str
    owner: str | None
    your_relation: str | None
    grants: tuple[GrantInfo, ...]
    destination_changes: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class _Resource:
    id: str
    name: str
    owner_id: str | None
    environment_id: str


def _resource(session: Session, who: Standing, kind: str, name_or_id: str) -> _Resource:
    env = who.environment
    if kind == "connector":
        connector = Connectors(session).find(env.id, name_or_id)
        if connector is not None:
            return _Resource(connector.id, connector.name, connector.created_by, env.id)
    elif kind == "connection":
        connection = Connections(session).find(env.id, name_or_id)
        if connection is not None:
            return _Resource(connection.id, connection.display_name, connection.owner_id, env.id)
    elif kind == "flow":
        flow = Flows(session).find(env.id, name_or_id)
        if flow is not None:
            return _Resource(flow.id, flow.name, flow.created_by, env.id)
    elif kind == "gateway":
        gateway = Gateways(session).find(env.id, name_or_id)
        if gateway is not None:
            return _Resource(gateway.id, gateway.name, gateway.created_by, env.id)
    else:
        raise InputError(f"Unknown resource kind {kind!r}: use connector, connection, flow or gateway.")
    raise NotFound(f"{_LABEL[kind]} {name_or_id!r} not found in environment {env.name!r}.")


def _grantee(session: Session, grantee: str) -> tuple[str, str, str]:
    """``user:NAME`` (or ``NAME``), ``group:NAME`` or ``everyone`` → (kind, id, display)."""
    text = grantee.strip()
    if text.lower() == "everyone":
        return "everyone", EVERYONE, "everyone"
    kind, _, name = text.partition(":") if ":" in text else ("user", "", text)
    if kind == "group":
        group = Groups(session).find(name)
        if group is None:
            raise NotFound(f"Group {name!r} not found (list them with 'tether group list').")
        return "group", group.id, group.name
    if kind == "user":
        user = Users(session).by_username(name.lower())
        if user is None:
            raise NotFound(f"User {name!r} not found (list them with 'tether user list').")
        return "user", user.id, user.username
    raise InputError(f"Share with 'user:NAME', 'group:NAME' or 'everyone', not {grantee!r}.")


def _grant_info(session: Session, grant: Grant) -> GrantInfo:
    name = "everyone"
    if grant.grantee_kind == "user":
        user = Users(session).get(grant.grantee_id)
        name = user.username if user is not None else grant.grantee_id
    elif grant.grantee_kind == "group":
        group = Groups(session).find(grant.grantee_id)
        name = group.name if group is not None else grant.grantee_id
    return GrantInfo(grant.grantee_kind, name, grant.permission, grant.created_by, grant.created_at)


def _access_info(
    session: Session, who: Standing, kind: str, found: _Resource, relation: str | None
) -> AccessInfo:
    owner = Users(session).get(found.owner_id) if found.owner_id else None
    changes: tuple[dict[str, Any], ...] = ()
    if kind == "connector":
        events = AuditLog(session).list(
            environment=found.environment_id,
            action="connector.destination-change",
            target=f"connector:{found.id}",
            limit=20,
        )
        changes = tuple(
            {"at": event.at.isoformat(), "by": event.actor, "changes": event.detail.get("changes", {})}
            for event in events
        )
    return AccessInfo(
        kind=kind,
        id=found.id,
        name=found.name,
        owner=owner.username if owner is not None else None,
        your_relation="admin" if relation is None and who.role == "admin" else relation,
        grants=tuple(_grant_info(session, grant) for grant in Grants(session).for_resource(kind, found.id)),
        destination_changes=changes,
    )


def readable_ids(
    session: Session, who: Standing, kind: str, rows: Iterable[tuple[str, str | None]]
) -> set[str]:
    """Of ``rows`` (resource id, owner id), the ids ``who`` may read: for list endpoints, in one query."""
    rows = list(rows)
    rule = RULES[(kind, "read")]
    if allows(rule, who.role, None):
        return {resource_id for resource_id, _owner in rows}
    reachable = Grants(session).reachable(who.environment.id, kind, who.user_id, who.groups)
    visible = set()
    for resource_id, owner_id in rows:
        held = ["owner"] if owner_id == who.user_id else reachable.get(resource_id, [])
        if any(allows(rule, who.role, relation) for relation in held):
            visible.add(resource_id)
    return visible


def resource_access(
    db: Database, principal: Principal, environment: str, kind: str, resource: str
) -> AccessInfo:
    """Owner and grants of a resource (anyone who may see it)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _resource(session, who, kind, resource)
        label = f"{_LABEL[kind]} {resource!r}"
        relation = check(
            session, who, kind, "read", resource_id=found.id, owner_id=found.owner_id, label=label
        )
        return _access_info(session, who, kind, found, relation)


def share_resource(
    db: Database,
    principal: Principal,
    environment: str,
    kind: str,
    resource: str,
    grantee: str,
    permission: str,
) -> AccessInfo:
    """Grant ``permission`` on a resource to ``grantee`` (``user:NAME``, ``group:NAME`` or ``everyone``).

    Giving a grantee a new permission replaces the one they had (sharing Can use after Can edit
    takes edit away).
    """
    if kind in OFFERED and permission not in OFFERED[kind]:
        raise InputError(
            f"A {kind} can be shared with permission {' or '.join(OFFERED[kind])}, not {permission!r}."
        )
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _resource(session, who, kind, resource)
        label = f"{_LABEL[kind]} {resource!r}"
        relation = check(
            session, who, kind, "share", resource_id=found.id, owner_id=found.owner_id, label=label
        )
        grantee_kind, grantee_id, display = _grantee(session, grantee)
        if grantee_kind == "user" and grantee_id == found.owner_id:
            raise InputError(f"{display!r} owns {label}; owners already have every permission on it.")
        Grants(session).put(
            found.environment_id,
            kind,
            found.id,
            grantee_kind,
            grantee_id,
            permission,
            created_by=principal.username,
        )
        AuditLog(session).record(
            f"{kind}.share",
            actor=principal.username,
            environment=found.environment_id,
            target=f"{kind}:{found.id}",
            detail={"name": found.name, "grantee": f"{grantee_kind}:{display}", "permission": permission},
            via=principal.via,
        )
        record_event(
            session,
            f"{kind}.shared",
            found.environment_id,
            Subject(kind, found.id, found.name, found.owner_id),
            actor=principal.username,
            data={"grantee": f"{grantee_kind}:{display}", "permission": permission},
        )
        return _access_info(session, who, kind, found, relation)


def unshare_resource(
    db: Database, principal: Principal, environment: str, kind: str, resource: str, grantee: str
) -> AccessInfo:
    """Take away whatever ``grantee`` was given on a resource; effective on the next call."""
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _resource(session, who, kind, resource)
        label = f"{_LABEL[kind]} {resource!r}"
        relation = check(
            session, who, kind, "share", resource_id=found.id, owner_id=found.owner_id, label=label
        )
        grantee_kind, grantee_id, display = _grantee(session, grantee)
        if not Grants(session).remove(kind, found.id, grantee_kind, grantee_id):
            raise NotFound(f"{label} is not shared with {grantee_kind}:{display}.")
        AuditLog(session).record(
            f"{kind}.unshare",
            actor=principal.username,
            environment=found.environment_id,
            target=f"{kind}:{found.id}",
            detail={"name": found.name, "grantee": f"{grantee_kind}:{display}"},
            via=principal.via,
        )
        return _access_info(session, who, kind, found, relation)
