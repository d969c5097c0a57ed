"""No credentials: the null object, so callers never test for ``None``."""

from __future__ import annotations

from collections.abc import Generator

import httpx

__all__ = ["NoAuth"]


class NoAuth(httpx.Auth):
    """Sends requests unchanged (connectors with no authentication)."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Yield the request as it is."""
        yield request

    def __repr__(self) -> str:
        return "NoAuth()"
