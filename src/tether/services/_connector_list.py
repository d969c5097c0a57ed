""":func:`list_connectors` behind a :class:`ReadCache`, for pages that list on every request.

The portal's connector list (and its search as you type) asks for the same list again and again;
building 1,000 :class:`ConnectorInfo` values and checking each one's visibility costs tens of
milliseconds each time. The cached list is the caller's own (keyed by user, admin flag and
environment) and is dropped as soon as this process commits a change to any table visibility
depends on; a change made by another process shows within ``ttl`` seconds, as for tokens.
"""

from __future__ import annotations

from tether.services._access import Principal
from tether.services._connectors import ConnectorInfo, list_connectors
from tether.services._read_cache import DEFAULT_READ_TTL, ReadCache
from tether.store import Database

__all__ = ["ConnectorDirectory"]

# What decides which connectors a caller sees, and what they look like.
_TABLES = (
    "connectors", "connector_revisions", "environments", "environment_members", "users", "grants",
    "groups", "group_members", "environment_group_roles",
)  # fmt: skip


class ConnectorDirectory:
    """The connectors a caller may see in an environment, as :func:`list_connectors` answers them."""

    def __init__(self, db: Database, *, ttl: float = DEFAULT_READ_TTL) -> None:
        self.db = db
        self._cache: ReadCache[tuple[ConnectorInfo, ...]] = ReadCache(db, _TABLES, ttl=ttl, size=1024)

    def list(self, principal: Principal, environment: str) -> list[ConnectorInfo]:
        """Refusals (not a member...) are never cached: they are raised afresh each time."""
        key = (principal.user_id, principal.is_admin, environment)
        found = self._cache.get(key)
        if found is None:
            stamp = self._cache.stamp()
            found = tuple(list_connectors(self.db, principal, environment))
            self._cache.put(key, found, stamp)
        return list(found)
