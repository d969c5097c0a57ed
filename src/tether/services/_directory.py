"""The user directory as platform admins see it (``tether user list``)."""

from __future__ import annotations

from tether.errors import PermissionDenied
from tether.services._access import Principal
from tether.services._identity import UserInfo, _user_info
from tether.store import Database, Users

__all__ = ["list_users"]


def list_users(db: Database, principal: Principal) -> list[UserInfo]:
    """Every user by name, without password hashes (platform admins only)."""
    if not principal.is_admin:
        raise PermissionDenied("Only platform administrators can list users.")
    with db.session() as session:
        return [_user_info(user) for user in Users(session).list()]
