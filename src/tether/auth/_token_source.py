"""An in-memory token source that refreshes ahead of expiry, once, however many callers ask at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from tether.auth._errors import OAuthError
from tether.auth._tokens import DEFAULT_EXPIRY_SKEW, TokenSet
from tether.auth.providers import OAuthProvider

__all__ = ["RefreshingTokenSource"]

TokenListener = Callable[[TokenSet], Awaitable[None]]


class RefreshingTokenSource:
    """Holds one connection's tokens and renews them through its provider.

    * Refreshes when the token is due (``min(skew, half its lifetime)`` left), or when forced (the API
      rejected it). An early refresh that fails while the token is still usable keeps the token.
    * Concurrent callers share one refresh (an ``asyncio.Lock``): with rotating refresh tokens a second
      refresh would use a spent token and, with reuse protection, revoke the whole grant.
    * A forced refresh asked for by several callers who all saw the same rejected token runs once:
      callers that waited while another refreshed get the new token.
    * ``on_refresh`` is awaited with each new token set, so the caller can store it (encrypted).

    It protects one process. Across processes the connections service wraps the refresh in a
    database or Redis lock and re-reads the stored tokens first.
    """

    def __init__(
        self,
        provider: OAuthProvider,
        tokens: TokenSet,
        *,
        skew: timedelta = DEFAULT_EXPIRY_SKEW,
        on_refresh: TokenListener | None = None,
    ) -> None:
        self._provider = provider
        self._tokens = tokens
        self._skew = skew
        self._on_refresh = on_refresh
        self._lock = asyncio.Lock()
        self._generation = 0

    @property
    def tokens(self) -> TokenSet:
        """The current token set."""
        return self._tokens

    async def get_token(self, force_refresh: bool = False) -> TokenSet:
        """The current token, refreshed first if it is due or ``force_refresh`` is set."""
        seen = self._generation
        if not force_refresh and not self._tokens.refresh_due(self._skew):
            return self._tokens
        async with self._lock:
            if self._generation != seen:
                return self._tokens  # someone refreshed while we waited
            if not force_refresh and not self._tokens.refresh_due(self._skew):
                return self._tokens
            refresh_token = self._tokens.refresh_token
            if not refresh_token:
                raise OAuthError(
                    "the access token expired and the provider gave no refresh token; sign in again",
                    error="invalid_grant",
                    provider=self._provider.name,
                )
            try:
                fresh = await self._provider.refresh(refresh_token)
            except OAuthError:
                if not force_refresh and self._tokens.usable():
                    return self._tokens  # an early refresh failed: the current token still works
                raise
            self._tokens = fresh
            self._generation += 1
            if self._on_refresh is not None:
                await self._on_refresh(fresh)
            return fresh

    def __repr__(self) -> str:
        return f"RefreshingTokenSource(provider={self._provider.name!r})"
