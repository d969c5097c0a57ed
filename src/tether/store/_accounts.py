"""Repositories for users, tokens and environments (with their members).

Repositories wrap a :class:`~sqlalchemy.orm.Session` and speak in rows; they never check
permissions (that is the services' job) and never commit (the unit of work does).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tether.store._models import Environment, EnvironmentMember, PersonalAccessToken, User

__all__ = ["Environments", "Tokens", "Users"]


class Users:
    """Users by id or username."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        username: str,
        *,
        password_hash: str | None,
        display_name: str,
        email: str | None = None,
        is_admin: bool = False,
    ) -> User:
        user = User(
            username=username,
            password_hash=password_hash,
            display_name=display_name,
            email=email,
            is_admin=is_admin,
            disabled=False,
        )
        self.session.add(user)
        self.session.flush()
        return user

    def get(self, user_id: str) -> User | None:
        return self.session.get(User, user_id)

    def by_username(self, username: str) -> User | None:
        return self.session.scalar(select(User).where(User.username == username))

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(User)) or 0

    def list(self) -> Sequence[User]:
        return self.session.scalars(select(User).order_by(User.username)).all()


class Tokens:
    """Personal access tokens, found by the SHA-256 of their plaintext."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: PersonalAccessToken) -> PersonalAccessToken:
        self.session.add(token)
        self.session.flush()
        return token

    def get(self, token_id: str) -> PersonalAccessToken | None:
        return self.session.get(PersonalAccessToken, token_id)

    def by_hash(self, token_hash: str) -> PersonalAccessToken | None:
        return self.session.scalar(
            select(PersonalAccessToken).where(PersonalAccessToken.token_hash == token_hash)
        )

    def for_user(self, user_id: str) -> Sequence[PersonalAccessToken]:
        return self.session.scalars(
            select(PersonalAccessToken)
            .where(PersonalAccessToken.user_id == user_id)
            .order_by(PersonalAccessToken.created_at, PersonalAccessToken.id)
        ).all()


class Environments:
    """Environments and their memberships."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, name: str, *, display_name: str) -> Environment:
        environment = Environment(name=name, display_name=display_name)
        self.session.add(environment)
        self.session.flush()
        return environment

    def find(self, name_or_id: str) -> Environment | None:
        """The environment with this name or id (names and UUIDs cannot collide: names are slugs)."""
        return self.session.scalar(
            select(Environment).where(or_(Environment.name == name_or_id, Environment.id == name_or_id))
        )

    def list(self) -> Sequence[Environment]:
        return self.session.scalars(select(Environment).order_by(Environment.name)).all()

    def for_user(self, user_id: str) -> Sequence[tuple[Environment, str]]:
        """Environments the user is a member of, with the user's role in each."""
        rows = self.session.execute(
            select(Environment, EnvironmentMember.role)
            .join(EnvironmentMember, EnvironmentMember.environment_id == Environment.id)
            .where(EnvironmentMember.user_id == user_id)
            .order_by(Environment.name)
        ).all()
        return [(environment, role) for environment, role in rows]

    def membership(self, environment_id: str, user_id: str) -> EnvironmentMember | None:
        return self.session.scalar(
            select(EnvironmentMember).where(
                EnvironmentMember.environment_id == environment_id, EnvironmentMember.user_id == user_id
            )
        )

    def set_role(self, environment_id: str, user_id: str, role: str) -> EnvironmentMember:
        """Make the user a member with ``role``, or change the role of an existing member."""
        member = self.membership(environment_id, user_id)
        if member is None:
            member = EnvironmentMember(environment_id=environment_id, user_id=user_id, role=role)
            self.session.add(member)
        else:
            member.role = role
        self.session.flush()
        return member

    def remove_member(self, environment_id: str, user_id: str) -> bool:
        member = self.membership(environment_id, user_id)
        if member is None:
            return False
        self.session.delete(member)
        self.session.flush()
        return True

    def members(self, environment_id: str) -> Sequence[EnvironmentMember]:
        return self.session.scalars(
            select(EnvironmentMember)
            .join(User, User.id == EnvironmentMember.user_id)
            .where(EnvironmentMember.environment_id == environment_id)
            .order_by(User.username)
        ).all()
