"""HTTP Basic authentication (RFC 7617), delegated to httpx's implementation."""

from __future__ import annotations

from collections.abc import Generator

import httpx

__all__ = ["BasicAuth"]


class BasicAuth(httpx.Auth):
    """Sends ``Authorization: Basic base64(username:password)``; the password is masked in ``repr``."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._inner = httpx.BasicAuth(username, password)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """httpx's Basic flow, unchanged."""
        yield from self._inner.auth_flow(request)

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password='***')"
