"""Who is calling, and what their role, ownership and grants let them do: the one permission module.

Every service function takes a :class:`Principal` and asks here, so the API, portal, CLI and MCP
share one set of rules. Three facts decide:

- the caller's **role** in the environment (``admin`` ⊃ ``maker`` ⊃ ``user``), held directly or
  through a group (the strongest wins); no role at all means the environment "does not exist";
- their **relation** to the resource: ``owner`` (made it), or a grant reaching them directly, via
  a group, or via "everyone in this environment": ``edit`` (co-owner), ``use`` (connectors and
  connections), ``run`` (flows);
- the **operation**: :data:`RULES` gives, per resource kind and operation, the weakest relation
  and the weakest role that allow it, and whether environment admins may act without a relation
  (they may see and delete anything, but never act with someone else's credentials).

A caller who may not even read a resource gets :class:`NotFound` (its existence does not leak);
one who may read it but not do this gets :class:`PermissionDenied`. ``docs/permissions.md`` is the
same rules as a table, checked against the API by ``tests/api/test_permission_matrix.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session

from tether.errors import InputError, NotFound, PermissionDenied
from tether.store import ROLES, Environment, Environments, Grants, Groups

__all__ = [
    "RELATIONS",
    "ROLES",
    "RULES",
    "NoLongerShared",
    "Principal",
    "Rule",
    "Standing",
    "allows",
    "check",
    "has_role",
    "relation_to",
    "require_role",
    "resolve_environment",
    "standing",
    "standing_of_user",
]


class NoLongerShared(PermissionDenied):
    """What a connection needs was shared and no longer is (a connector grant, a connection grant).

    Flows meet this after an owner revoked a grant: the run fails saying so, not with a 500.
    """

    code = "no-longer-shared"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: made by ``authenticate_password`` or ``authenticate_token``.

    ``is_admin`` is the platform administrator flag: such a caller acts as an admin of every
    environment, member or not. ``via`` says how they signed in (``token:<id>``, ``password``,
    ``sso``) for the audit log; it is never a credential.
    """

    user_id: str
    username: str
    is_admin: bool = False
    via: str | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """The caller's place in one environment: their effective role and the groups they are in."""

    environment: Environment
    role: str
    user_id: str
    groups: frozenset[str]


@dataclass(frozen=True, slots=True)
class Rule:
    """What an operation needs: at least ``relation`` to the resource and at least ``role``.

    ``admin_may`` lets environment admins act with no relation at all (not for acts that use or
    change someone's credentials, which stay personal).
    """

    relation: str
    role: str = "user"
    admin_may: bool = True


# Relations, weakest first; each includes those before it ("run" and "use" are peers of rank 1).
RELATIONS: Final = ("use", "run", "edit", "owner")
_RANK: Final = {"use": 1, "run": 1, "edit": 2, "owner": 3}

RULES: Final[dict[tuple[str, str], Rule]] = {
    ("connector", "read"): Rule("use"),
    ("connector", "download"): Rule("edit"),
    ("connector", "update"): Rule("edit", "maker"),
    ("connector", "delete"): Rule("edit", "maker"),
    ("connector", "share"): Rule("edit", "maker"),
    ("connector", "connect"): Rule("use"),
    # Submitting a revision for certification speaks for the connector: owners and co-owners.
    ("connector", "certify"): Rule("edit", "maker"),
    ("connection", "read"): Rule("use"),
    ("connection", "update"): Rule("owner", admin_may=False),
    ("connection", "delete"): Rule("owner"),
    ("connection", "share"): Rule("owner", admin_may=False),
    ("connection", "invoke"): Rule("use", admin_may=False),
    ("connection", "bind"): Rule("use", "maker", admin_may=False),
    ("flow", "read"): Rule("run"),
    ("flow", "update"): Rule("edit", "maker"),
    ("flow", "delete"): Rule("edit", "maker"),
    ("flow", "share"): Rule("edit", "maker"),
    ("flow", "run"): Rule("run"),
    ("flow", "cancel"): Rule("edit"),
    ("flow", "resubmit"): Rule("edit"),
    ("flow", "read-runs"): Rule("edit"),
    # On-premises gateways: Can use = create connections through it; managing its agents is the owners'.
    ("gateway", "read"): Rule("use"),
    ("gateway", "use"): Rule("use"),
    ("gateway", "manage"): Rule("edit", "maker"),
    ("gateway", "share"): Rule("edit", "maker"),
}


def check_role_name(role: str) -> str:
    """Return ``role`` if it is one of :data:`ROLES`, else raise :class:`InputError`."""
    if role not in ROLES:
        raise InputError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")
    return role


def has_role(role: str | None, needed: str) -> bool:
    """Whether ``role`` includes ``needed`` (admin ⊃ maker ⊃ user)."""
    return role is not None and ROLES.index(role) >= ROLES.index(needed)


def standing_of_user(
    session: Session, environment: Environment, user_id: str, *, is_admin: bool
) -> Standing | None:
    """A user's effective role in ``environment`` (direct or via groups), ``None`` if they have none."""
    groups = Groups(session).of_user(user_id)
    if is_admin:
        return Standing(environment, "admin", user_id, groups)
    roles = Groups(session).roles_in(environment.id, groups)
    member = Environments(session).membership(environment.id, user_id)
    if member is not None:
        roles.append(member.role)
    if not roles:
        return None
    return Standing(environment, max(roles, key=ROLES.index), user_id, groups)


def standing(session: Session, principal: Principal, name_or_id: str) -> Standing:
    """The environment and the caller's standing in it.

    A caller with no role there gets :class:`NotFound`, exactly as for a missing environment,
    so nobody can probe which environment names exist.
    """
    environment = Environments(session).find(name_or_id)
    found = None
    if environment is not None:
        found = standing_of_user(session, environment, principal.user_id, is_admin=principal.is_admin)
    if found is None:
        raise NotFound(f"Environment {name_or_id!r} not found.")
    return found


def resolve_environment(session: Session, principal: Principal, name_or_id: str) -> tuple[Environment, str]:
    """The environment and the caller's role in it (see :func:`standing`)."""
    found = standing(session, principal, name_or_id)
    return found.environment, found.role


def relation_to(
    session: Session, who: Standing, kind: str, resource_id: str, owner_id: str | None
) -> str | None:
    """The strongest relation ``who`` has to the resource: owner, or the best grant reaching them."""
    if owner_id is not None and owner_id == who.user_id:
        return "owner"
    held = Grants(session).held(kind, resource_id, who.user_id, who.groups)
    return max(held, key=_RANK.__getitem__) if held else None


def allows(rule: Rule, role: str, relation: str | None) -> bool:
    """Whether ``role`` and ``relation`` satisfy ``rule`` (pure: the table test reads the same rules)."""
    if rule.admin_may and role == "admin":
        return True
    return relation is not None and _RANK[relation] >= _RANK[rule.relation] and has_role(role, rule.role)


def check(
    session: Session,
    who: Standing,
    kind: str,
    operation: str,
    *,
    resource_id: str,
    owner_id: str | None,
    label: str,
    relation: str | None = None,
) -> str | None:
    """Raise unless ``who`` may do ``operation`` on the resource; return their relation to it.

    ``label`` names the resource in messages ("Connector 'petstore'"). A caller who may not read
    it is told it is not found in the environment; one who may read it is told what they lack.
    """
    if relation is None:
        relation = relation_to(session, who, kind, resource_id, owner_id)
    if allows(RULES[(kind, operation)], who.role, relation):
        return relation
    if not allows(RULES[(kind, "read")], who.role, relation):
        raise NotFound(f"{label} not found in environment {who.environment.name!r}.")
    rule = RULES[(kind, operation)]
    if relation is not None and _RANK[relation] >= _RANK[rule.relation]:
        raise PermissionDenied(
            f"You need the {rule.role} role in environment {who.environment.name!r} to {operation} "
            f"{label}; you have {who.role}."
        )
    needed = {"use": "Can use", "run": "Can run", "edit": "Can edit", "owner": "to be its owner"}[
        rule.relation
    ]
    have = {None: "no grant", "use": "Can use", "run": "Can run", "edit": "Can edit", "owner": "owner"}[
        relation
    ]
    raise PermissionDenied(
        f"To {operation} {label} you need {needed} (you have {have}); ask one of its owners to share it."
    )


def require_role(role: str, needed: str, *, action: str) -> None:
    """Raise :class:`PermissionDenied` unless ``role`` includes ``needed``.

    ``action`` completes the message: "You need the maker role to {action}."
    """
    if not has_role(role, needed):
        raise PermissionDenied(
            f"You need the {needed} role in this environment to {action}; you have {role}."
        )
