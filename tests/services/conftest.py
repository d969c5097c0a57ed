from __future__ import annotations

from collections.abc import Callable

import pytest

from tether.services import Principal, add_member, create_environment, create_user
from tether.store import Database, Users


@pytest.fixture
def admin(db: Database) -> Principal:
    """A platform administrator (made through the store: no slow password hash needed)."""
    with db.session() as s:
        user = Users(s).add("root", password_hash=None, display_name="Root", is_admin=True)
        return Principal(user_id=user.id, username=user.username, is_admin=True)


@pytest.fixture
def make_user(db: Database, admin: Principal) -> Callable[..., Principal]:
    """Create a token-only user, optionally a member of an environment with a role."""

    def make(username: str, *, environment: str | None = None, role: str = "user") -> Principal:
        info = create_user(db, admin, username)
        if environment is not None:
            add_member(db, admin, environment, username, role)
        return Principal(user_id=info.id, username=info.username, is_admin=False)

    return make


@pytest.fixture
def team(db: Database, admin: Principal) -> str:
    """The name of a fresh environment, ``team``."""
    return create_environment(db, admin, "team", display_name="Team").name
