"""Who is calling, and what their role in an environment lets them do.

Every service function takes a :class:`Principal` and checks it here, so the API, portal, CLI
and MCP share one set of rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tether.errors import InputError, NotFound, PermissionDenied
from tether.store import ROLES, Environment, Environments

__all__ = ["ROLES", "Principal", "has_role", "require_role", "resolve_environment"]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: made by ``authenticate_password`` or ``authenticate_token``.

    ``is_admin`` is the platform administrator flag: such a caller acts as an admin of every
    environment, member or not.
    """

    user_id: str
    username: str
    is_admin: bool = False


def check_role_name(role: str) -> str:
    """Return ``role`` if it is one of :data:`ROLES`, else raise :class:`InputError`."""
    if role not in ROLES:
        raise InputError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")
    return role


def has_role(role: str | None, needed: str) -> bool:
    """Whether ``role`` includes ``needed`` (admin ⊃ maker ⊃ user)."""
    return role is not None and ROLES.index(role) >= ROLES.index(needed)


def resolve_environment(session: Session, principal: Principal, name_or_id: str) -> tuple[Environment, str]:
    """The environment and the caller's role in it.

    A caller who is not a member gets :class:`NotFound`, exactly as for a missing environment,
    so nobody can probe which environment names exist.
    """
    environments = Environments(session)
    environment = environments.find(name_or_id)
    if environment is None:
        raise NotFound(f"Environment {name_or_id!r} not found.")
    if principal.is_admin:
        return environment, "admin"
    member = environments.membership(environment.id, principal.user_id)
    if member is None:
        raise NotFound(f"Environment {name_or_id!r} not found.")
    return environment, member.role


def require_role(role: str, needed: str, *, action: str) -> None:
    """Raise :class:`PermissionDenied` unless ``role`` includes ``needed``.

    ``action`` completes the message: "You need the maker role to {action}."
    """
    if not has_role(role, needed):
        raise PermissionDenied(
            f"You need the {needed} role in this environment to {action}; you have {role}."
        )
