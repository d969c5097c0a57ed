"""Tether's problem+json answers as exceptions a program can catch by kind and by ``code``.

The server answers every failure in one shape (RFC 9457): ``type`` ends with a stable code
(``not-found``, ``destination-refused``, ``invalid-arguments``…), ``status``, ``detail`` (what
went wrong and how to fix it) and extra facts. The SDK raises :class:`ApiError` subclasses
that are ALSO the matching :mod:`tether.errors` classes, so ``except NotFound`` works the same
whether the error came from the server or from Tether used as a library.

    TetherError
    └── ClientError                 raised by the SDK
        ├── ApiError                the server answered a problem (code, status, problem)
        │   ├── InvalidRequest      400/413/422 (also an InputError)
        │   ├── Unauthenticated     401 (also an AuthError): no token, or a revoked one
        │   ├── Forbidden           403 (also a PermissionDenied)
        │   ├── NotFoundError       404 (also a NotFound)
        │   ├── ConflictError       409 (also a Conflict)
        │   └── RateLimitedError    429, with ``retry_after`` seconds
        ├── ServerUnreachable       no answer at all (down, wrong URL, timeout)
        ├── RunTimeout              a flow run did not finish while we watched
        └── UpstreamStatus          InvokeResult.raise_for_status(): the API answered 4xx/5xx
"""

from __future__ import annotations

from typing import Any

import httpx

from tether.errors import AuthError, Conflict, InputError, NotFound, PermissionDenied, TetherError

__all__ = [
    "ApiError",
    "ClientError",
    "ConflictError",
    "Forbidden",
    "InvalidRequest",
    "NotFoundError",
    "RateLimitedError",
    "RunTimeout",
    "ServerUnreachable",
    "Unauthenticated",
    "UpstreamStatus",
    "error_from_response",
]

PROBLEM_TYPE_BASE = "https://tether.dev/problems/"


class ClientError(TetherError):
    """Base of everything the SDK raises."""

    code = "client-error"


class ApiError(ClientError):
    """The server refused or failed a request; ``code`` and ``status`` are the server's.

    ``problem`` is the whole problem+json object (``issues``, ``retry_after``… when given).

    Example::

        try:
            connection.call("Sentiment", documents=[])
        except tether.sdk.ApiError as exc:
            print(exc.status, exc.code, exc.message)
    """

    code = "api-error"

    def __init__(self, message: str, *, status: int, code: str, problem: dict[str, Any]) -> None:
        extra = {k: v for k, v in problem.items() if k not in {"type", "title", "detail", "status"}}
        super().__init__(message, detail=extra)
        # The class's code names the kind; the server's code, per instance, names the exact cause.
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "status", status)
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.message} ({self.status} {self.code})"


class InvalidRequest(ApiError, InputError):
    """The request's input is wrong (bad arguments, unknown parameter, too large)."""


class Unauthenticated(ApiError, AuthError):
    """No valid token: log in again (``tether login``) or pass ``token=``."""


class Forbidden(ApiError, PermissionDenied):
    """Authenticated, but not allowed to do this."""


class NotFoundError(ApiError, NotFound):
    """It does not exist, or is not visible to you."""


class ConflictError(ApiError, Conflict):
    """It clashes with the current state (a name taken, a run already finished…)."""


class RateLimitedError(ApiError):
    """Too many calls; wait ``retry_after`` seconds before the next."""

    retryable = True

    @property
    def retry_after(self) -> float:
        value = self.problem.get("retry_after")
        return float(value) if isinstance(value, int | float) else 1.0


class ServerUnreachable(ClientError):
    """The server did not answer (not running, wrong URL, or slower than the timeout)."""

    code = "server-unreachable"
    retryable = True


class RunTimeout(ClientError):
    """A flow run was still going when the wait ended; it goes on, ``run_id`` finds it later."""

    code = "run-timeout"

    def __init__(self, message: str, *, run_id: str, status: str) -> None:
        super().__init__(message, detail={"run_id": run_id, "status": status})
        self.run_id = run_id
        self.run_status = status


class UpstreamStatus(ClientError):
    """The API behind a connection answered an error status; ``result`` is its whole answer."""

    code = "upstream-status"

    def __init__(self, result: Any) -> None:  # an InvokeResult (typed loosely: models import us)
        super().__init__(f"the API answered {result.status}", detail={"status": result.status})
        self.result = result


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFoundError,
    409: ConflictError,
    413: InvalidRequest,
    422: InvalidRequest,
    429: RateLimitedError,
}


def error_from_response(response: httpx.Response) -> ApiError:
    """The exception for a 4xx/5xx answer, problem+json or not (a proxy may answer HTML)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    problem: dict[str, Any] = body if isinstance(body, dict) else {}
    kind = problem.get("type")
    code = (
        kind.removeprefix(PROBLEM_TYPE_BASE)
        if isinstance(kind, str) and kind.startswith(PROBLEM_TYPE_BASE)
        else f"http-{response.status_code}"
    )
    detail = problem.get("detail") or problem.get("title")
    message = (
        str(detail) if detail else f"the server answered {response.status_code} {response.reason_phrase}"
    )
    if response.status_code == 429 and "retry_after" not in problem:
        header = response.headers.get("Retry-After", "")
        if header.isdigit():
            problem = {**problem, "retry_after": int(header)}
    error_class = _BY_STATUS.get(response.status_code, ApiError)
    return error_class(message, status=response.status_code, code=code, problem=problem)


def unreachable(base_url: str, exc: httpx.TransportError) -> ServerUnreachable:
    """A transport failure said in terms of what to check."""
    if isinstance(exc, httpx.TimeoutException):
        return ServerUnreachable(
            f"the Tether server at {base_url} did not answer in time ({exc.__class__.__name__}); "
            "it may be overloaded: retry, or pass a larger timeout="
        )
    return ServerUnreachable(
        f"cannot reach the Tether server at {base_url} ({exc.__class__.__name__}); "
        "check the URL and that 'tether serve' is running"
    )
