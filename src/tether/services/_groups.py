"""Groups: sets of users that roles and grants can name at once.

Groups are platform-wide (an SSO group such as ``sales`` means the same people everywhere) and are
managed by platform admins; a group's *role in an environment* is set by that environment's admins,
like a user's. Every change is audited, and lands in the invoke path's read cache at once (the
group tables are among those it watches).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tether.errors import Conflict, NotFound, PermissionDenied
from tether.services._access import Principal, check_role_name, require_role, resolve_environment
from tether.services._names import check_slug, check_username
from tether.store import AuditLog, Database, Groups, Users

__all__ = [
    "GroupInfo",
    "add_group_member",
    "create_group",
    "delete_group",
    "list_groups",
    "remove_group_member",
    "set_group_role",
]


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A group with its members' user names and, when listed for an environment, its role there."""

    id: str
    name: str
    display_name: str
    source: str
    members: tuple[str, ...]
    role: str | None = None


def _require_platform_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise PermissionDenied("Only platform administrators manage groups.")


def _info(groups: Groups, group_id: str, role: str | None = None) -> GroupInfo:
    group = groups.find(group_id)
    if group is None:
        raise NotFound(f"Group {group_id!r} not found.")
    members = tuple(member.user.username for member in groups.members(group.id))
    return GroupInfo(group.id, group.name, group.display_name, group.source, members, role)


def _audit(session: Session, principal: Principal, action: str, group: str, **detail: object) -> None:
    AuditLog(session).record(
        action, actor=principal.username, target=f"group:{group}", detail=dict(detail), via=principal.via
    )


def create_group(
    db: Database, principal: Principal, name: str, *, display_name: str | None = None
) -> GroupInfo:
    """Create a local group (platform admins). Raises :class:`Conflict` if the name is taken."""
    _require_platform_admin(principal)
    check_slug(name, what="group")
    with db.session() as session:
        groups = Groups(session)
        if groups.find(name) is not None:
            raise Conflict(f"A group named {name!r} already exists.")
        group = groups.add(name, display_name=display_name or name)
        _audit(session, principal, "group.create", group.id, name=name)
        return _info(groups, group.id)


def delete_group(db: Database, principal: Principal, name: str) -> None:
    """Delete a group, its memberships, roles and grants (platform admins)."""
    _require_platform_admin(principal)
    with db.session() as session:
        groups = Groups(session)
        group = groups.find(name)
        if group is None:
            raise NotFound(f"Group {name!r} not found.")
        _audit(session, principal, "group.delete", group.id, name=group.name)
        groups.delete(group)


def list_groups(db: Database, principal: Principal, environment: str | None = None) -> list[GroupInfo]:
    """Every group (platform admins), or the groups holding a role in ``environment`` (its members)."""
    with db.session() as session:
        groups = Groups(session)
        if environment is not None:
            env, _role = resolve_environment(session, principal, environment)
            return [_info(groups, group.id, role) for group, role in groups.environment_roles(env.id)]
        _require_platform_admin(principal)
        return [_info(groups, group.id) for group in groups.list()]


def add_group_member(db: Database, principal: Principal, group: str, username: str) -> GroupInfo:
    """Put a user in a group (platform admins); adding a member twice is harmless."""
    _require_platform_admin(principal)
    with db.session() as session:
        groups = Groups(session)
        found = groups.find(group)
        user = Users(session).by_username(check_username(username))
        if found is None:
            raise NotFound(f"Group {group!r} not found.")
        if user is None:
            raise NotFound(f"User {username!r} not found.")
        if groups.add_member(found.id, user.id):
            _audit(session, principal, "group.member.add", found.id, name=found.name, user=user.username)
        return _info(groups, found.id)


def remove_group_member(db: Database, principal: Principal, group: str, username: str) -> GroupInfo:
    """Take a user out of a group (platform admins); what the group gave them stops at the next call."""
    _require_platform_admin(principal)
    with db.session() as session:
        groups = Groups(session)
        found = groups.find(group)
        user = Users(session).by_username(check_username(username))
        if found is None:
            raise NotFound(f"Group {group!r} not found.")
        if user is None or not groups.remove_member(found.id, user.id):
            raise NotFound(f"User {username!r} is not in group {found.name!r}.")
        _audit(session, principal, "group.member.remove", found.id, name=found.name, user=user.username)
        return _info(groups, found.id)


def set_group_role(
    db: Database, principal: Principal, environment: str, group: str, role: str | None
) -> GroupInfo:
    """Give every member of ``group`` the ``role`` in ``environment`` (``None`` removes it; env admins)."""
    if role is not None:
        check_role_name(role)
    with db.session() as session:
        env, caller_role = resolve_environment(session, principal, environment)
        require_role(caller_role, "admin", action="manage members")
        groups = Groups(session)
        found = groups.find(group)
        if found is None:
            raise NotFound(f"Group {group!r} not found.")
        groups.set_role(env.id, found.id, role)
        AuditLog(session).record(
            "environment.group-role",
            actor=principal.username,
            environment=env.id,
            target=f"group:{found.id}",
            detail={"group": found.name, "role": role},
            via=principal.via,
        )
        return _info(groups, found.id, role)
