"""Groups, group roles in environments, and grants: who besides an owner may act on a resource.

Ownership stays on the resources themselves (``connectors.created_by``, ``connections.owner_id``,
``flows.created_by``); a :class:`Grant` adds one permission on one resource for a user, a group or
everyone in the resource's environment. Repositories here never decide anything: the services'
``_access`` module reads these rows and answers "may P do OP on R".
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from tether.store._models import Base, User, new_id, utcnow

__all__ = [
    "EVERYONE",
    "GRANTEE_KINDS",
    "PERMISSIONS",
    "RESOURCE_KINDS",
    "EnvironmentGroupRole",
    "Grant",
    "Grants",
    "Group",
    "GroupMember",
    "Groups",
]

# What a grant may be on, to whom, and what it allows (weakest first per kind, see services._access).
RESOURCE_KINDS: Final = ("connector", "connection", "flow", "gateway")
GRANTEE_KINDS: Final = ("user", "group", "everyone")
PERMISSIONS: Final = ("use", "run", "edit")
# The grantee id of an "everyone in this environment" grant (a non-null value keeps the unique key).
EVERYONE: Final = "*"


class Group(Base):
    """A named set of users, platform-wide; local (made by admins) or synced from an SSO claim."""

    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # "local", or "sso": membership of an SSO group is rewritten from the claim at every login.
    source: Mapped[str] = mapped_column(String(16), default="local")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupMember(Base):
    """One user in one group."""

    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    user: Mapped[User] = relationship(lazy="joined")


class EnvironmentGroupRole(Base):
    """A role in an environment granted to every member of a group."""

    __tablename__ = "environment_group_roles"

    environment_id: Mapped[str] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))


class Grant(Base):
    """``permission`` on one resource for one grantee (a user, a group, or everyone: ``EVERYONE``)."""

    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("resource_kind", "resource_id", "grantee_kind", "grantee_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    resource_kind: Mapped[str] = mapped_column(String(16))
    # No foreign key: one column points at three tables; deleting a resource deletes its grants.
    resource_id: Mapped[str] = mapped_column(String(36))
    grantee_kind: Mapped[str] = mapped_column(String(16))
    grantee_id: Mapped[str] = mapped_column(String(36))
    permission: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Groups:
    """Groups, their members, and their roles in environments."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, name: str, *, display_name: str, source: str = "local") -> Group:
        group = Group(name=name, display_name=display_name, source=source)
        self.session.add(group)
        self.session.flush()
        return group

    def find(self, name_or_id: str) -> Group | None:
        return self.session.scalar(select(Group).where(or_(Group.name == name_or_id, Group.id == name_or_id)))

    def list(self) -> Sequence[Group]:
        return self.session.scalars(select(Group).order_by(Group.name)).all()

    def delete(self, group: Group) -> None:
        self.session.execute(delete(Grant).where(Grant.grantee_kind == "group", Grant.grantee_id == group.id))
        self.session.delete(group)
        self.session.flush()

    def members(self, group_id: str) -> Sequence[GroupMember]:
        return self.session.scalars(
            select(GroupMember)
            .join(User, User.id == GroupMember.user_id)
            .where(GroupMember.group_id == group_id)
            .order_by(User.username)
        ).all()

    def add_member(self, group_id: str, user_id: str) -> bool:
        """Add the user; False if they already were a member."""
        if self.session.get(GroupMember, (group_id, user_id)) is not None:
            return False
        self.session.add(GroupMember(group_id=group_id, user_id=user_id))
        self.session.flush()
        return True

    def remove_member(self, group_id: str, user_id: str) -> bool:
        member = self.session.get(GroupMember, (group_id, user_id))
        if member is None:
            return False
        self.session.delete(member)
        self.session.flush()
        return True

    def of_user(self, user_id: str) -> frozenset[str]:
        """The ids of every group the user is in."""
        return frozenset(
            self.session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user_id))
        )

    def roles_in(self, environment_id: str, group_ids: Iterable[str]) -> builtins.list[str]:
        """The roles these groups hold in the environment."""
        ids = list(group_ids)
        if not ids:
            return []
        return list(
            self.session.scalars(
                select(EnvironmentGroupRole.role).where(
                    EnvironmentGroupRole.environment_id == environment_id,
                    EnvironmentGroupRole.group_id.in_(ids),
                )
            )
        )

    def environment_roles(self, environment_id: str) -> Sequence[tuple[Group, str]]:
        rows = self.session.execute(
            select(Group, EnvironmentGroupRole.role)
            .join(EnvironmentGroupRole, EnvironmentGroupRole.group_id == Group.id)
            .where(EnvironmentGroupRole.environment_id == environment_id)
            .order_by(Group.name)
        ).all()
        return [(group, role) for group, role in rows]

    def set_role(self, environment_id: str, group_id: str, role: str | None) -> None:
        """Give the group ``role`` in the environment; ``None`` takes its role away."""
        row = self.session.get(EnvironmentGroupRole, (environment_id, group_id))
        if role is None:
            if row is not None:
                self.session.delete(row)
        elif row is None:
            self.session.add(
                EnvironmentGroupRole(environment_id=environment_id, group_id=group_id, role=role)
            )
        else:
            row.role = role
        self.session.flush()


class Grants:
    """Grants on resources."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def for_resource(self, kind: str, resource_id: str) -> Sequence[Grant]:
        return self.session.scalars(
            select(Grant)
            .where(Grant.resource_kind == kind, Grant.resource_id == resource_id)
            .order_by(Grant.created_at, Grant.id)
        ).all()

    def held(self, kind: str, resource_id: str, user_id: str, group_ids: Iterable[str]) -> list[str]:
        """The permissions on the resource that reach this user directly, via a group or via everyone."""
        reach = [
            (Grant.grantee_kind == "user") & (Grant.grantee_id == user_id),
            Grant.grantee_kind == "everyone",
        ]
        ids = list(group_ids)
        if ids:
            reach.append((Grant.grantee_kind == "group") & Grant.grantee_id.in_(ids))
        return list(
            self.session.scalars(
                select(Grant.permission).where(
                    Grant.resource_kind == kind, Grant.resource_id == resource_id, or_(*reach)
                )
            )
        )

    def reachable(
        self, environment_id: str, kind: str, user_id: str, group_ids: Iterable[str]
    ) -> dict[str, list[str]]:
        """Resource id → permissions reaching this user, for every ``kind`` resource of the environment."""
        reach = [
            (Grant.grantee_kind == "user") & (Grant.grantee_id == user_id),
            Grant.grantee_kind == "everyone",
        ]
        ids = list(group_ids)
        if ids:
            reach.append((Grant.grantee_kind == "group") & Grant.grantee_id.in_(ids))
        found: dict[str, list[str]] = {}
        rows = self.session.execute(
            select(Grant.resource_id, Grant.permission).where(
                Grant.environment_id == environment_id, Grant.resource_kind == kind, or_(*reach)
            )
        )
        for resource_id, permission in rows:
            found.setdefault(resource_id, []).append(permission)
        return found

    def put(
        self,
        environment_id: str,
        kind: str,
        resource_id: str,
        grantee_kind: str,
        grantee_id: str,
        permission: str,
        *,
        created_by: str | None,
    ) -> Grant:
        """Grant ``permission`` (replacing what this grantee held on the resource)."""
        row = self.session.scalar(
            select(Grant).where(
                Grant.resource_kind == kind,
                Grant.resource_id == resource_id,
                Grant.grantee_kind == grantee_kind,
                Grant.grantee_id == grantee_id,
            )
        )
        if row is None:
            row = Grant(
                environment_id=environment_id,
                resource_kind=kind,
                resource_id=resource_id,
                grantee_kind=grantee_kind,
                grantee_id=grantee_id,
                permission=permission,
                created_by=created_by,
            )
            self.session.add(row)
        else:
            row.permission = permission
            row.created_by = created_by
            row.created_at = utcnow()
        self.session.flush()
        return row

    def remove(self, kind: str, resource_id: str, grantee_kind: str, grantee_id: str) -> bool:
        result = self.session.execute(
            delete(Grant).where(
                Grant.resource_kind == kind,
                Grant.resource_id == resource_id,
                Grant.grantee_kind == grantee_kind,
                Grant.grantee_id == grantee_id,
            )
        )
        self.session.flush()
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def drop_resource(self, kind: str, resource_id: str) -> None:
        """Delete every grant on a resource (it is being deleted)."""
        self.session.execute(
            delete(Grant).where(Grant.resource_kind == kind, Grant.resource_id == resource_id)
        )
