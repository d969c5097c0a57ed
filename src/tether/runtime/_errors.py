"""The errors the runtime raises, under ``tether.errors.TetherError``.

    TetherError
    ├── ValidationFailed
    │   └── ArgumentError           arguments break the operation's parameter/body schemas
    ├── PermissionDenied
    │   └── DestinationRefused      the network policy (SSRF guard) refuses the address
    ├── RateLimited                 the connection's request budget is spent (HTTP 429)
    └── UpstreamError               the API could not be reached or answered unusably (HTTP 502)
        ├── UpstreamUnavailable     connection refused/reset, DNS failure, protocol error
        ├── UpstreamTimeout         no answer in time, or an async operation never finished (504)
        └── UpstreamProtocolError   too many redirects, an unusable redirect, a broken body

An upstream *status* (404, 500...) is not an error here: it is a decision (see ``_retry.py``)
and the caller gets the response. These classes are for when there is no usable response.
"""

from __future__ import annotations

from typing import Any

from tether.errors import PermissionDenied, TetherError, ValidationFailed

__all__ = [
    "ArgumentError",
    "DestinationRefused",
    "RateLimited",
    "UpstreamError",
    "UpstreamProtocolError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]


class ArgumentError(ValidationFailed):
    """The arguments of one call break its parameter or body schemas.

    ``issues`` lists every bad field (``name``, ``pointer``, ``message``, ``expected``), so a
    flow author fixes them all at once instead of one per run.
    """

    code = "invalid-arguments"


class DestinationRefused(PermissionDenied):
    """The network policy forbids this destination (loopback, private, metadata...).

    Raised before any byte is sent to it; ``detail`` names the host, the address and why.
    """

    code = "destination-refused"

    def __init__(self, message: str, *, host: str, address: str | None = None, reason: str) -> None:
        super().__init__(message, detail={"host": host, "address": address, "reason": reason})
        self.host, self.address, self.reason = host, address, reason


class RateLimited(TetherError):
    """The connection sent more requests than its limit allows; nothing was sent upstream.

    ``retry_after`` (seconds) is what an API answer's ``Retry-After`` header should say.
    """

    code = "rate-limited"
    status = 429
    retryable = True

    def __init__(self, message: str, *, retry_after: float, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message, detail={**(detail or {}), "retry_after": retry_after})
        self.retry_after = retry_after


class UpstreamError(TetherError):
    """The upstream API gave no usable answer."""

    code = "upstream-error"
    status = 502


class UpstreamUnavailable(UpstreamError):
    """The upstream API could not be reached (refused, reset, unknown host)."""

    code = "upstream-unavailable"
    retryable = True


class UpstreamTimeout(UpstreamError):
    """The upstream API did not answer in time (or its async operation did not finish)."""

    code = "upstream-timeout"
    status = 504
    retryable = True


class UpstreamProtocolError(UpstreamError):
    """The upstream answer cannot be used: a redirect loop, a bad Location, a broken body."""

    code = "upstream-protocol"
