"""A connection's OAuth tokens, read and renewed through the database, one refresh at a time.

``ConnectionTokenSource`` is the ``TokenSource`` that ``tether.auth.OAuth2Auth`` asks for tokens.
Renewal runs inside one database transaction that holds the connection's row lock
(``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every transaction is ``BEGIN IMMEDIATE``, so it
holds the database's write lock). After the lock is taken the token is read *again*: whoever waited
while another process refreshed finds a fresh token and uses it, so N concurrent callers cause one
request to the token endpoint. The rotated refresh token is written in the same transaction as the
access token, so a crash never leaves a spent refresh token stored. A refusal (revoked grant)
marks the connection ``error`` with the provider's reason and is audited.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Final

import httpx

from tether.auth import OAuthError, TokenSet, provider_for
from tether.errors import NotFound
from tether.secrets import KeyRing
from tether.services._connection_parts import CLIENT_CREDENTIALS, connection_oauth, record
from tether.store import Connections, Database, utcnow

__all__ = ["DEFAULT_REFRESH_SKEW", "ConnectionTokenSource"]

DEFAULT_REFRESH_SKEW: Final = timedelta(minutes=5)
# Provider errors that say nothing about the grant itself: leave the connection's status alone.
_TRANSIENT: Final = frozenset({"unreachable", "http_error", "timeout"})
_REFRESH_TIMEOUT: Final = 60.0


class ConnectionTokenSource:
    """Tokens of one stored connection, renewed ahead of expiry (``skew``) or when an API rejects one.

        auth = OAuth2Auth(ConnectionTokenSource(db, connection_id, keyring=ring))
        async with httpx.AsyncClient(auth=auth) as client: ...

    Client-credentials connections get a new token the same way (no refresh token needed).
    Providers that give no ``expires_in`` are renewed only when a call is rejected.
    """

    def __init__(
        self,
        db: Database,
        connection_id: str,
        *,
        keyring: KeyRing,
        skew: timedelta = DEFAULT_REFRESH_SKEW,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.db = db
        self.connection_id = connection_id
        self.skew = skew
        self._keyring = keyring
        self._http_client = http_client
        # Callers in this process queue here first, so they do not each hold a thread on the DB lock.
        self._lock = asyncio.Lock()
        self._handed_out: str | None = None

    async def get_token(self, force_refresh: bool = False) -> TokenSet:
        """The current token; renewed first when it expires soon or ``force_refresh`` is set."""
        rejected = self._handed_out if force_refresh else None
        async with self._lock:
            if not force_refresh:
                current = await asyncio.to_thread(self._read)
                if current is not None and not current.expires_soon(self.skew):
                    self._handed_out = current.access_token
                    return current
            loop = asyncio.get_running_loop()
            token = await asyncio.to_thread(self._renew, loop, rejected, force_refresh)
            self._handed_out = token.access_token
            return token

    def _read(self) -> TokenSet | None:
        with self.db.session() as session:
            row = Connections(session).get(self.connection_id)
            if row is None:
                raise NotFound(f"Connection {self.connection_id!r} no longer exists.")
            return TokenSet.from_dict(self._keyring.decrypt_json(row.tokens)) if row.tokens else None

    def _renew(self, loop: asyncio.AbstractEventLoop, rejected: str | None, forced: bool) -> TokenSet:
        failure: OAuthError | None = None
        with self.db.session() as session:
            row = Connections(session).get(self.connection_id, for_update=True)
            if row is None:
                raise NotFound(f"Connection {self.connection_id!r} no longer exists.")
            current = TokenSet.from_dict(self._keyring.decrypt_json(row.tokens)) if row.tokens else None
            if current is not None and self._still_good(current, rejected, forced):
                return current
            settings, values = connection_oauth(session, row, self._keyring)
            provider = provider_for(settings, values, http_client=self._http_client)
            try:
                if row.grant == CLIENT_CREDENTIALS:
                    pending = provider.client_credentials(settings.scope_list or None)
                elif current is None or not current.refresh_token:
                    raise OAuthError(
                        "the connection has no refresh token; sign in again ('tether connection update "
                        f"{row.id} --reconsent')",
                        error="no_refresh_token",
                    )
                else:
                    pending = provider.refresh(current.refresh_token)
                fresh = asyncio.run_coroutine_threadsafe(pending, loop).result(_REFRESH_TIMEOUT)
            except OAuthError as exc:
                failure = exc
                if exc.error not in _TRANSIENT:
                    row.status, row.status_reason = "error", f"Token refresh failed: {exc.message}"
                    row.updated_at = utcnow()
                    record(session, "connection.refresh_failed", None, row, reason=row.status_reason)
            else:
                if current is not None:
                    fresh = fresh.with_refresh_token_from(current)
                now = utcnow()
                row.tokens = self._keyring.encrypt_json(fresh.to_dict())
                row.token_expires_at, row.token_refreshed_at = fresh.expires_at, now
                row.refresh_count = (row.refresh_count or 0) + 1
                row.status, row.status_reason, row.updated_at = "connected", None, now
                return fresh
        # Raised after the commit above, so the error status and audit event are kept.
        raise failure

    def _still_good(self, current: TokenSet, rejected: str | None, forced: bool) -> bool:
        if not forced:
            return not current.expires_soon(self.skew)
        # Someone renewed it while we waited: use theirs. (A rejected token we cannot name is renewed;
        # an extra refresh is safe, as each one is serialized and uses the latest refresh token.)
        return rejected is not None and current.access_token != rejected

    def __repr__(self) -> str:
        return f"ConnectionTokenSource(connection_id={self.connection_id!r})"
