"""An API key sent in a header or in the query string (Swagger ``apiKey`` security)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Final, Literal

import httpx

from tether.errors import InputError

__all__ = ["API_KEY_LOCATIONS", "ApiKeyAuth"]

API_KEY_LOCATIONS: Final = ("header", "query")


class ApiKeyAuth(httpx.Auth):
    """Adds ``name: value`` as a header, or ``?name=value`` to the URL, on every request.

    ``location`` is matched case-insensitively (Swagger writes ``header`` / ``query``); anything else is
    an ``InputError``. The key replaces a value of the same name the request already has.
    """

    def __init__(self, name: str, location: Literal["header", "query"] | str, value: str) -> None:
        where = location.strip().lower()
        if where not in API_KEY_LOCATIONS:
            raise InputError(
                f"API key location {location!r} is not supported; use 'header' or 'query'",
                detail={"location": location},
            )
        if not name:
            raise InputError("an API key needs the name of its header or query parameter")
        self.name = name
        self.location = where
        self._value = value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Put the key in its place and send."""
        if self.location == "header":
            request.headers[self.name] = self._value
        else:
            request.url = request.url.copy_set_param(self.name, self._value)
        yield request

    def __repr__(self) -> str:
        return f"ApiKeyAuth(name={self.name!r}, location={self.location!r}, value='***')"
