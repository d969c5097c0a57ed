"""A fixed bearer token (a personal access token, or a token the caller manages itself)."""

from __future__ import annotations

from collections.abc import Generator

import httpx

__all__ = ["BearerAuth"]


class BearerAuth(httpx.Auth):
    """Sends ``Authorization: Bearer <token>``; never refreshes (use ``OAuth2Auth`` for that)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header and send."""
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token='***')"
