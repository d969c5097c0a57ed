"""A connection's OAuth tokens, read from the database and renewed once at a time, with no lock held
across the call to the token endpoint.

``ConnectionTokenSource`` is the ``TokenSource`` that ``tether.auth.OAuth2Auth`` asks for tokens.

When: a token is renewed when less than ``min(5 min, half its lifetime)`` is left (a 30 s token at
15 s, not on every call), or when an API rejected it.

Once: in this process, callers of one connection share one renewal (a task per connection and
event loop; waiters reuse its token). Across processes, the renewal is a short *lease* on the
connection row: claim it (a tiny transaction, committed), call the token endpoint with no
transaction open, then write the result only if ``token_version`` is still the one read
(compare-and-set). A caller that finds another process's lease uses its still-valid token, or
re-reads the row until the new token appears. N concurrent callers cause one token request.

What happens with the outcome:

* success: tokens, version, ``connected`` and the cleared back-off are written together, so a
  rotated refresh token is never lost by a crash between two writes.
* the endpoint is unreachable, fails or times out: the status says nothing new about the grant. The
  current token keeps serving calls while it is usable (a warning goes into ``status_reason`` and
  the log); once it is not, the call fails with 502 ``TokenEndpointUnreachable`` or 504
  ``TokenEndpointTimeout`` -- never a 400. The next try waits a back-off (1 s, doubling, ≤ 60 s).
* a timeout or a reset after sending has an *unknown outcome*: the provider may have rotated the
  refresh token and the answer was lost. It is not retried blindly within the call: the row is
  re-read first (another process may have stored the new token) and the next try waits the
  back-off. That try resends the stored refresh token, the only one Tether has: providers that
  rotate allow exactly this retry for a short while and answer with the same new tokens
  (django-oauth-toolkit ``REFRESH_TOKEN_GRACE_PERIOD_SECONDS``, Okta's grace period for token
  rotation, Auth0's reuse interval), so the first retry comes after 1 s, well inside those windows.
  Providers that do not rotate (Google) or keep earlier refresh tokens valid (Entra ID) simply
  answer again. A provider with no such window refuses it with ``invalid_grant`` (and may revoke
  the token family): the grant was lost with the answer, and the connection then says so (below).
  When the API rejects the kept token (django-oauth-toolkit revokes the access token it replaced),
  the renewal that rejection forces goes ahead at once, without the back-off: the rejection is the
  sign that the provider did rotate, and the grace period is short.
* ``invalid_grant`` (the provider says the grant is dead): ``needs-reconsent`` with the command and
  API route that start a new sign-in; the current token still serves while usable.
* any other refusal (``invalid_client``...): ``error`` with the provider's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import httpx

from tether import telemetry
from tether.auth import (
    DEFAULT_REFRESH_WINDOW,
    OAuthError,
    TokenEndpointTimeout,
    TokenEndpointUnreachable,
    TokenSet,
    provider_for,
)
from tether.definition import OAuthSettings
from tether.errors import NotFound
from tether.runtime import DEADLINE_EXTENSION, UpstreamError, UpstreamTimeout
from tether.secrets import KeyRing
from tether.services._connection_parts import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, connection_oauth, record
from tether.services._connection_status import (
    CONNECTED,
    ERROR,
    NEEDS_CONSENT,
    NEEDS_RECONSENT,
    ConnectionNeedsAttention,
    environment_name,
    fix_for_error,
    quoted,
    reconsent_fix,
)
from tether.services._token_refresh import (
    DEFAULT_REFRESH_POLICY,
    RefreshPolicy,
    configure_token_refresh,
    refresher_for,
)
from tether.store import Connection, Connections, Database, utcnow

__all__ = [
    "DEFAULT_REFRESH_POLICY",
    "DEFAULT_REFRESH_SKEW",
    "ConnectionTokenSource",
    "RefreshPolicy",
    "configure_token_refresh",
]

logger = logging.getLogger("tether.services.tokens")

# The longest a token is renewed ahead of expiry (kept under its old name for callers).
DEFAULT_REFRESH_SKEW: Final = DEFAULT_REFRESH_WINDOW


@dataclass(frozen=True)
class _Stored:
    """What the connection row says, read in one short transaction."""

    tokens: TokenSet | None
    version: int
    status: str
    status_reason: str | None
    grant: str | None
    retry_at: datetime | None


class ConnectionTokenSource:
    """Tokens of one stored connection, renewed ahead of expiry or when an API rejects one.

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
        skew: timedelta | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.db = db
        self.connection_id = connection_id
        self._skew = skew
        self._keyring = keyring
        self._http_client = http_client
        self._refresher = refresher_for(db)
        self._handed_out: str | None = None

    @property
    def policy(self) -> RefreshPolicy:
        """The database's policy, read at each use (the server may configure it after this was made)."""
        return self._refresher.policy

    @property
    def window(self) -> timedelta:
        """The longest time before expiry at which a token is renewed."""
        return self._skew if self._skew is not None else self.policy.window

    async def get_token(self, force_refresh: bool = False) -> TokenSet:
        """The current token; renewed first when it is due or ``force_refresh`` is set."""
        rejected = self._handed_out if force_refresh else None
        stored = await asyncio.to_thread(self._read)
        if stored.tokens is not None and self._good(stored.tokens, rejected, force_refresh):
            return self._hand_out(stored.tokens)
        flight = self._refresher.join(self.connection_id, lambda: self._renew(rejected, force_refresh))
        # Shielded: a caller that gives up (its request was cancelled) must not cancel the others' renewal.
        return self._hand_out(await asyncio.shield(flight))

    def _hand_out(self, tokens: TokenSet) -> TokenSet:
        self._handed_out = tokens.access_token
        return tokens

    def _good(self, tokens: TokenSet, rejected: str | None, forced: bool) -> bool:
        if not forced:
            return not tokens.refresh_due(self.window)
        # Someone renewed it since it was handed out: use theirs. (A rejected token we cannot name is
        # renewed; an extra renewal is safe, as renewals are serialized and use the latest refresh token.)
        return rejected is not None and tokens.access_token != rejected

    # -- the renewal (one task per connection in this process) --------------------------------

    async def _renew(self, rejected: str | None, forced: bool) -> TokenSet:
        policy = self.policy
        owner = f"{os.getpid()}:{uuid.uuid4().hex[:16]}"
        loop = asyncio.get_running_loop()
        give_up = loop.time() + policy.lease.total_seconds() + policy.timeout
        while True:
            stored = await asyncio.to_thread(self._read)
            current = stored.tokens
            if current is not None and self._good(current, rejected, forced):
                return current
            # An early renewal that fails leaves this token in service (a forced one means it was rejected).
            keep = current if current is not None and not forced and current.usable() else None
            blocked = await self._blocked(stored, keep, forced)
            if blocked is not None:
                return blocked
            claim = await asyncio.to_thread(self._claim, stored.version, owner)
            if claim is None:  # another process is renewing: use our token, or wait for theirs
                if keep is not None:
                    return keep
                if loop.time() > give_up:
                    raise TokenEndpointTimeout(
                        f"connection {self.connection_id!r}: another Tether process has been renewing the "
                        "token for too long; try again shortly"
                    )
                await asyncio.sleep(policy.poll)
                continue
            if not isinstance(claim, OAuthSettingsAndValues):
                continue  # new tokens were stored between the read and the claim: read them
            try:
                fresh = await self._call(claim, stored, policy.timeout)
            except OAuthError as exc:
                telemetry.count_token_refresh("refused")
                await asyncio.to_thread(self._fail, stored.version, owner, exc)
                return await self._after_failure(exc, keep, stored)
            except Exception:
                telemetry.count_token_refresh("failed")
                await asyncio.to_thread(self._release, owner)  # no renewal: let others try at once
                raise
            telemetry.count_token_refresh("renewed")
            return await asyncio.to_thread(self._store, stored.version, owner, fresh, current)

    async def _blocked(self, stored: _Stored, keep: TokenSet | None, forced: bool) -> TokenSet | None:
        """``keep`` (or an error) when no token request should be sent now; ``None`` to go on."""
        if stored.status == NEEDS_RECONSENT:  # the grant is dead: only a new sign-in helps
            if keep is not None:
                return keep
            reason = stored.status_reason or "the provider refused the refresh token"
            raise await self._needs_attention(reason)
        if stored.grant != CLIENT_CREDENTIALS and (stored.tokens is None or not stored.tokens.refresh_token):
            if keep is not None:
                return keep
            raise await self._needs_attention("the connection has no refresh token")
        # The back-off spaces out renewals nobody is waiting for. A renewal forced by an API that
        # rejected the token goes ahead: after an answer lost to a timeout, that rejection is the sign
        # the provider did rotate, and resending the refresh token now is what its grace period is for.
        if stored.retry_at is not None and stored.retry_at > utcnow() and not forced:
            if keep is not None:
                return keep
            raise TokenEndpointUnreachable(
                f"connection {self.connection_id!r}: the last token renewal failed and the next try is "
                f"due at {stored.retry_at:%H:%M:%S} UTC; its access token has expired. "
                + (stored.status_reason or "")
            )
        return None

    async def _needs_attention(self, reason: str) -> ConnectionNeedsAttention:
        env = await asyncio.to_thread(self._environment)
        fix = reconsent_fix(self.connection_id, env)
        message = reason if "tether connection update" in reason else f"{reason.rstrip('.')}; {fix}"
        return ConnectionNeedsAttention(
            f"Connection {self.connection_id!r} needs a new sign-in: {message}",
            detail={"connection_id": self.connection_id, "connection_status": NEEDS_RECONSENT, "fix": fix},
        )

    async def _call(self, claim: OAuthSettingsAndValues, stored: _Stored, timeout: float) -> TokenSet:
        """One token request, bounded by ``timeout`` (no transaction is open here).

        It takes the road the caller gave (the runtime's transport: network policy, retries of
        requests that never left), with the renewal's deadline on it, so those retries fit inside.
        """
        async with _deadline_client(self._http_client, timeout) as client:
            provider = provider_for(claim.settings, claim.values, http_client=client)
            if stored.grant == CLIENT_CREDENTIALS:
                pending = provider.client_credentials()
            else:
                assert stored.tokens is not None and stored.tokens.refresh_token  # checked by _blocked
                pending = provider.refresh(stored.tokens.refresh_token)
            try:
                return await asyncio.wait_for(pending, timeout + 1.0)  # the road's deadline comes first
            except (TimeoutError, UpstreamTimeout) as exc:
                raise TokenEndpointTimeout(
                    f"token refresh failed: {provider.name}'s token endpoint did not answer within "
                    f"{timeout:g} s",
                    provider=provider.name,
                ) from exc
            except UpstreamError as exc:  # refused, reset, unusable: the road's words
                raise TokenEndpointUnreachable(
                    f"token refresh failed: {provider.name}'s token endpoint could not be reached "
                    f"({exc.message})",
                    provider=provider.name,
                    outcome_unknown=not isinstance(exc.__cause__, _NOT_SENT),
                ) from exc

    async def _after_failure(self, exc: OAuthError, keep: TokenSet | None, stored: _Stored) -> TokenSet:
        """The token to go on with after a failed renewal, or the error the call gets."""
        if keep is not None:
            logger.warning(
                "connection %s: token renewal failed (%s); the current token is used until it expires",
                self.connection_id,
                exc.message,
            )
            return keep
        if isinstance(exc, TokenEndpointUnreachable):
            raise exc  # 502/504: the access token has expired and no new one could be had
        if exc.error == "invalid_grant" and stored.grant == AUTHORIZATION_CODE:
            reason = f"the provider refused the refresh token ({_provider_words(exc)})"
            raise await self._needs_attention(reason) from exc
        raise ConnectionNeedsAttention(
            f"Connection {self.connection_id!r}: the provider refused to renew the token "
            f"({_provider_words(exc)})",
            detail={"connection_id": self.connection_id, "connection_status": ERROR},
        ) from exc

    # -- short transactions ---------------------------------------------------------------------

    def _row(self, session: Any, *, for_update: bool = False) -> Connection:
        row = Connections(session).get(self.connection_id, for_update=for_update)
        if row is None:
            raise NotFound(f"Connection {self.connection_id!r} no longer exists.")
        return row

    def _environment(self) -> str:
        with self.db.session() as session:
            return environment_name(session, self._row(session))

    def _read(self) -> _Stored:
        with self.db.session() as session:
            row = self._row(session)
            tokens = TokenSet.from_dict(self._keyring.decrypt_json(row.tokens)) if row.tokens else None
            return _Stored(
                tokens, row.token_version or 0, row.status, row.status_reason, row.grant, row.refresh_retry_at
            )

    def _claim(self, version: int, owner: str) -> OAuthSettingsAndValues | object | None:
        """Take the renewal lease (committed before any request leaves).

        Returns what the provider is built from, ``None`` when another process holds the lease, or
        ``_CHANGED`` when new tokens were stored since ``version`` was read.
        """
        with self.db.session() as session:
            row = self._row(session, for_update=True)
            if (row.token_version or 0) != version:
                return _CHANGED
            now = utcnow()
            if row.refresh_lease_until is not None and row.refresh_lease_until > now:
                return None
            row.refresh_lease_owner, row.refresh_lease_until = owner, now + self.policy.lease
            settings, values = connection_oauth(session, row, self._keyring)
            return OAuthSettingsAndValues(settings, values)

    def _store(self, version: int, owner: str, fresh: TokenSet, previous: TokenSet | None) -> TokenSet:
        """Write the new tokens if nobody else stored any since ``version`` (compare-and-set)."""
        with self.db.session() as session:
            row = self._row(session, for_update=True)
            if row.refresh_lease_owner == owner:
                row.refresh_lease_owner, row.refresh_lease_until = None, None
            if (row.token_version or 0) != version and row.tokens:
                # Another process stored tokens after our lease lapsed: theirs are as new, and stored.
                return TokenSet.from_dict(self._keyring.decrypt_json(row.tokens))
            if previous is not None:
                fresh = fresh.with_refresh_token_from(previous)
            now = utcnow()
            row.tokens = self._keyring.encrypt_json(fresh.to_dict())
            row.token_version = (row.token_version or 0) + 1
            row.token_expires_at, row.token_refreshed_at = fresh.expires_at, now
            row.refresh_count = (row.refresh_count or 0) + 1
            row.refresh_failures, row.refresh_retry_at = 0, None
            if row.status != CONNECTED or row.status_reason:
                record(session, "connection.refreshed", None, row, previous_status=row.status)
            row.status, row.status_reason, row.updated_at = CONNECTED, None, now
            return fresh

    def _release(self, owner: str) -> None:
        with self.db.session() as session:
            row = Connections(session).get(self.connection_id, for_update=True)
            if row is not None and row.refresh_lease_owner == owner:
                row.refresh_lease_owner, row.refresh_lease_until = None, None

    def _fail(self, version: int, owner: str, exc: OAuthError) -> None:
        """Record a failed renewal: back-off and warning, or the status the provider's answer means."""
        with self.db.session() as session:
            row = self._row(session, for_update=True)
            if row.refresh_lease_owner == owner:
                row.refresh_lease_owner, row.refresh_lease_until = None, None
            if (row.token_version or 0) != version:
                return  # someone stored new tokens meanwhile: this failure is old news
            now = utcnow()
            env = environment_name(session, row)
            if isinstance(exc, TokenEndpointUnreachable):
                row.refresh_failures = (row.refresh_failures or 0) + 1
                row.refresh_retry_at = now + self.policy.backoff(row.refresh_failures)
                if row.status == CONNECTED:  # a warning only: the grant may be fine
                    row.status_reason = (
                        f"Token renewal failed at {now:%H:%M:%S} UTC ({exc.message}); the current access "
                        f"token is used until it expires; next try from {row.refresh_retry_at:%H:%M:%S} UTC."
                    )
                return
            if row.status == NEEDS_CONSENT:
                return  # its owner is signing in again already: that sign-in will settle the status
            if exc.error == "invalid_grant" and row.grant == AUTHORIZATION_CODE:
                row.status = NEEDS_RECONSENT
                row.status_reason = (
                    f"The provider refused the refresh token ({_provider_words(exc)}): sign in again; "
                    f"{reconsent_fix(row.id, env)}."
                )
                row.refresh_failures, row.refresh_retry_at = 0, None
            else:
                row.status = ERROR
                row.status_reason = (
                    f"The provider refused to renew the token ({_provider_words(exc)}); "
                    f"{fix_for_error(row, env)}."
                )
                row.refresh_failures = (row.refresh_failures or 0) + 1
                row.refresh_retry_at = now + self.policy.backoff(row.refresh_failures)
            row.updated_at = now
            record(session, "connection.refresh_failed", None, row, reason=row.status_reason)

    def __repr__(self) -> str:
        return f"ConnectionTokenSource(connection_id={self.connection_id!r})"


# Returned by _claim when the stored tokens changed between the read and the claim.
_CHANGED: Final = object()
# Road failures where the request never left: the refresh token was certainly not spent.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout)


@dataclass(frozen=True)
class OAuthSettingsAndValues:
    """A connection's OAuth settings and decrypted values, read with the lease (secrets: no repr)."""

    settings: OAuthSettings
    values: dict[str, Any] = field(repr=False)


class _Deadlined(httpx.AsyncBaseTransport):
    """Puts the renewal's deadline on each token request before it takes the caller's road."""

    def __init__(self, road: httpx.AsyncClient, seconds: float) -> None:
        self._road, self._seconds = road, seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions[DEADLINE_EXTENSION] = time.monotonic() + self._seconds
        return await self._road.send(request, stream=True)

    async def aclose(self) -> None:
        """The road belongs to the caller."""


@contextlib.asynccontextmanager
async def _deadline_client(
    road: httpx.AsyncClient | None, seconds: float
) -> AsyncIterator[httpx.AsyncClient | None]:
    if road is None:  # no road given (a library user): authlib's own client
        yield None
        return
    async with httpx.AsyncClient(transport=_Deadlined(road, seconds)) as client:
        yield client


def _provider_words(exc: OAuthError) -> str:
    said = f"{exc.error}: {quoted(exc.error_description)}" if exc.error_description else exc.error
    return said
