"""Environment use cases: listing, creating, and managing members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tether.errors import Conflict, NotFound, PermissionDenied
from tether.services._access import (
    Principal,
    check_role_name,
    require_role,
    resolve_environment,
    standing_of_user,
)
from tether.services._names import check_slug, check_username
from tether.store import Database, Environment, Environments, Users

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "EnvironmentInfo",
    "MemberInfo",
    "add_member",
    "create_environment",
    "get_environment",
    "list_environments",
    "list_members",
    "remove_member",
]

DEFAULT_ENVIRONMENT = "default"


@dataclass(frozen=True, slots=True)
class EnvironmentInfo:
    """An environment as the caller sees it, with the caller's ``role`` in it."""

    id: str
    name: str
    display_name: str
    created_at: datetime
    role: str


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """A member of an environment."""

    username: str
    display_name: str
    role: str


def _info(environment: Environment, role: str) -> EnvironmentInfo:
    return EnvironmentInfo(
        id=environment.id,
        name=environment.name,
        display_name=environment.display_name,
        created_at=environment.created_at,
        role=role,
    )


def list_environments(db: Database, principal: Principal) -> list[EnvironmentInfo]:
    """Environments the caller has a role in, directly or via a group (all for platform admins), by name."""
    with db.session() as session:
        environments = Environments(session)
        if principal.is_admin:
            return [_info(environment, "admin") for environment in environments.list()]
        found = []
        for environment in environments.list():  # a role may come from a group, not only membership
            where = standing_of_user(session, environment, principal.user_id, is_admin=False)
            if where is not None:
                found.append(_info(environment, where.role))
        return found


def get_environment(db: Database, principal: Principal, name_or_id: str) -> EnvironmentInfo:
    """One environment by name or id; :class:`NotFound` if missing *or* the caller is not a member."""
    with db.session() as session:
        return _info(*resolve_environment(session, principal, name_or_id))


def create_environment(
    db: Database, principal: Principal, name: str, *, display_name: str | None = None
) -> EnvironmentInfo:
    """Create an environment (platform admins only). Raises :class:`Conflict` if the name is taken."""
    if not principal.is_admin:
        raise PermissionDenied("Only platform administrators can create environments.")
    check_slug(name, what="environment")
    with db.session() as session:
        environments = Environments(session)
        if environments.find(name) is not None:
            raise Conflict(f"An environment named {name!r} already exists.")
        created = environments.add(name, display_name=display_name or name)
        # The creator is the environment's admin, so it stays manageable if their platform flag goes.
        environments.set_role(created.id, principal.user_id, "admin")
        return _info(created, "admin")


def add_member(db: Database, principal: Principal, environment: str, username: str, role: str) -> MemberInfo:
    """Give ``username`` the ``role`` in ``environment`` (adding them, or changing their role).

    Only the environment's admins (and platform admins) may do this.
    """
    check_role_name(role)
    with db.session() as session:
        env, caller_role = resolve_environment(session, principal, environment)
        require_role(caller_role, "admin", action="manage members")
        user = Users(session).by_username(check_username(username))
        if user is None:
            raise NotFound(f"User {username!r} not found.")
        Environments(session).set_role(env.id, user.id, role)
        return MemberInfo(username=user.username, display_name=user.display_name, role=role)


def remove_member(db: Database, principal: Principal, environment: str, username: str) -> None:
    """Remove ``username`` from ``environment`` (environment admins only); NotFound if not a member."""
    with db.session() as session:
        env, caller_role = resolve_environment(session, principal, environment)
        require_role(caller_role, "admin", action="manage members")
        user = Users(session).by_username(check_username(username))
        if user is None or not Environments(session).remove_member(env.id, user.id):
            raise NotFound(f"User {username!r} is not a member of {env.name!r}.")


def list_members(db: Database, principal: Principal, environment: str) -> list[MemberInfo]:
    """Members of ``environment`` with their roles; any member may look."""
    with db.session() as session:
        env, _role = resolve_environment(session, principal, environment)
        return [
            MemberInfo(username=m.user.username, display_name=m.user.display_name, role=m.role)
            for m in Environments(session).members(env.id)
        ]
