"""The CLI's HTTP client for a Tether server.

Commands that change server state go through the API (and so through the services layer's
permission checks), exactly as paconn goes through Power Platform's API. The server URL
and token come from ``--server``/``--token``, ``TETHER_URL``/``TETHER_TOKEN``, or what
``tether login`` saved in ``$TETHER_HOME/credentials.json`` (mode 0600).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tether.errors import (
    AuthError,
    Conflict,
    InputError,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    TetherError,
)

__all__ = ["ApiClient", "Credentials", "forget_credentials", "load_credentials", "save_credentials"]

CREDENTIALS_FILE = "credentials.json"
# The server gives every upstream call one overall deadline (tether.runtime.DEFAULT_DEADLINE,
# not imported: it would load the runtime into every command) and then answers 504
# UpstreamTimeout naming the API. The CLI waits longer than that, so the user reads that answer
# instead of a misleading "the Tether server cannot be reached" (a test pins the order).
SERVER_DEADLINE = 120.0
DEFAULT_TIMEOUT = httpx.Timeout(SERVER_DEADLINE + 30.0, connect=5.0)

_STATUS_ERRORS: dict[int, type[TetherError]] = {
    400: InputError,
    401: AuthError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    422: InputError,
}


@dataclass(frozen=True)
class Credentials:
    """Where the server is and the personal access token to call it with."""

    server: str
    token: str

    def __repr__(self) -> str:  # never print the token
        return f"Credentials(server={self.server!r}, token='***')"


def load_credentials(home: Path) -> Credentials | None:
    path = home / CREDENTIALS_FILE
    try:
        data = json.loads(path.read_text())
        return Credentials(server=data["server"], token=data["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_credentials(home: Path, credentials: Credentials) -> Path:
    """Store credentials readable by the owner only (the file holds a bearer token)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / CREDENTIALS_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"server": credentials.server, "token": credentials.token}, handle)
    os.chmod(path, 0o600)
    return path


def forget_credentials(home: Path) -> bool:
    path = home / CREDENTIALS_FILE
    if path.exists():
        path.unlink()
        return True
    return False


class ApiClient:
    """A thin, typed wrapper over httpx that turns problem+json answers into TetherErrors."""

    def __init__(
        self, server: str, token: str | None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.server = server.rstrip("/")
        self._http = httpx.Client(
            base_url=self.server + "/api/v1", headers=headers, timeout=DEFAULT_TIMEOUT, transport=transport
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; raise the matching TetherError for any 4xx/5xx answer."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            waited = self._http.timeout.read
            raise TetherError(
                f"the Tether server at {self.server} did not answer within {waited:g} s "
                f"({exc.__class__.__name__}); it may be overloaded, or still working: check its log"
            ) from exc
        except httpx.TransportError as exc:
            raise TetherError(
                f"cannot reach the Tether server at {self.server} ({exc.__class__.__name__}); "
                "start it with 'tether serve' or pass --server"
            ) from exc
        if response.status_code >= 400:
            raise _problem_to_error(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    def if_match(self, path: str, given: str | None) -> dict[str, str]:
        """The ``If-Match`` header for a read-modify-write of ``path``: ``given``, else the ETag a GET
        answers now. The server then refuses (412, naming who changed it and when) a save that
        would overwrite a change made in between, and the CLI prints that instead of losing it."""
        etag = given or self.request("GET", path).headers.get("ETag")
        return {"If-Match": etag} if etag else {}


def _problem_to_error(response: httpx.Response) -> TetherError:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    detail = problem.get("detail") if isinstance(problem, dict) else None
    message = detail or problem.get("title") if isinstance(problem, dict) else None
    message = message or f"the server answered {response.status_code} {response.reason_phrase}"
    error_class = _STATUS_ERRORS.get(response.status_code, TetherError)
    extra = (
        {k: v for k, v in problem.items() if k not in {"type", "title", "detail", "status"}}
        if isinstance(problem, dict)
        else {}
    )
    return error_class(str(message), detail=extra)
