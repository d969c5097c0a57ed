"""OAuth 2.0 bearer tokens that renew themselves: refresh once on a rejected token, then retry once."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Generator
from typing import Final, Protocol, runtime_checkable

import httpx

from tether.auth._tokens import TokenSet

__all__ = ["OAuth2Auth", "TokenSource", "token_was_rejected"]

# RFC 6750 §3: a resource server says the token is bad with error="invalid_token" in WWW-Authenticate.
_INVALID_TOKEN: Final = re.compile(r'error\s*=\s*"?invalid_token"?', re.IGNORECASE)


@runtime_checkable
class TokenSource(Protocol):
    """Where ``OAuth2Auth`` gets tokens: a stored connection, or an in-memory ``RefreshingTokenSource``.

    ``get_token(force_refresh=True)`` must return a token different from the one just rejected (or
    raise ``OAuthError`` when the connection cannot be renewed any more).
    """

    async def get_token(self, force_refresh: bool = False) -> TokenSet: ...


def token_was_rejected(response: httpx.Response) -> bool:
    """Whether an API answer means "this access token is no good": 401, or 403 with ``invalid_token``.

    A plain 403 is a permission decision, which a new token would not change, so it is not retried.
    """
    if response.status_code == 401:
        return True
    if response.status_code == 403:
        return bool(_INVALID_TOKEN.search(response.headers.get("WWW-Authenticate", "")))
    return False


class OAuth2Auth(httpx.Auth):
    """Adds ``Authorization: Bearer`` from a :class:`TokenSource`; on a rejected token, renews it once.

    Only one retry: if the fresh token is rejected too, that response is returned to the caller, who
    decides (the runtime marks the connection as needing a new sign-in). Async clients only, because
    getting a token may need the network.
    """

    # The request may be sent twice, so its body must be replayable.
    requires_request_body = True

    def __init__(self, token_source: TokenSource) -> None:
        self.token_source = token_source

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Refuse: token sources are async, so use ``httpx.AsyncClient``."""
        raise RuntimeError("OAuth2Auth works with httpx.AsyncClient only (token sources are async)")
        yield request  # pragma: no cover - makes this a generator, as httpx expects

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Send with the current token; if the API rejects it, force one refresh and resend."""
        token = await self.token_source.get_token()
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        if not token_was_rejected(response):
            return
        fresh = await self.token_source.get_token(force_refresh=True)
        request.headers["Authorization"] = f"Bearer {fresh.access_token}"
        yield request

    def __repr__(self) -> str:
        return f"OAuth2Auth(token_source={type(self.token_source).__name__})"
