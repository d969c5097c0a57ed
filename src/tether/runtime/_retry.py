"""What to do with an upstream answer: a decision value, not an exception.

A 503 from the API is not a bug in Tether; it is information. ``RetryPolicy.resolve`` turns
a status (or a connection failure) into a ``Resolution`` (retry after N seconds, or give
the answer to the caller as it is), the way Airbyte's ``ErrorResolution`` does, so the
transport's loop stays small and the rules are testable without a network.

Only idempotent methods are retried on an answer (a POST that got a 500 may have done its
work); any method is retried when the connection was never made, because then nothing was sent.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from dataclasses import dataclass

from tether.errors import ConfigurationError

__all__ = [
    "DEFAULT_RETRY",
    "IDEMPOTENT_METHODS",
    "Resolution",
    "ResponseAction",
    "RetryPolicy",
    "retry_after",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class ResponseAction(enum.Enum):
    """What the transport does with one attempt's outcome."""

    SUCCESS = "success"  # hand the answer over
    RETRY = "retry"  # wait ``delay`` seconds, send again
    FAIL = "fail"  # hand the (bad) answer over: retries are exhausted or pointless


@dataclass(frozen=True, slots=True)
class Resolution:
    """One decision: the action, the wait before a retry, and why (for the log)."""

    action: ResponseAction
    delay: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff (with jitter) that honour ``Retry-After``.

    ``max_attempts`` counts the first try. A ``Retry-After`` longer than ``max_retry_after``
    is not waited for: the caller gets the 429/503 and its header, and decides.
    """

    max_attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 60.0
    statuses: frozenset[int] = RETRY_STATUSES
    methods: frozenset[str] = IDEMPOTENT_METHODS

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.backoff < 0 or self.max_backoff < 0:
            raise ConfigurationError("a retry policy needs max_attempts >= 1 and non-negative backoffs")

    def delay(self, attempt: int) -> float:
        """The backoff before retry number ``attempt`` (1-based), with full jitter on the upper half."""
        base = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return float(base / 2 + random.uniform(0, base / 2))

    def resolve(self, method: str, status: int, attempt: int, retry_after_header: str | None) -> Resolution:
        """Decide about an answer with ``status`` to attempt number ``attempt`` (1-based)."""
        if status < 400:
            return Resolution(ResponseAction.SUCCESS)
        if status not in self.statuses or method.upper() not in self.methods:
            return Resolution(ResponseAction.FAIL, reason=f"status {status} is not retried for {method}")
        if attempt >= self.max_attempts:
            return Resolution(ResponseAction.FAIL, reason=f"gave up after {attempt} attempts")
        wait = retry_after(retry_after_header)
        if wait is not None and wait > self.max_retry_after:
            return Resolution(ResponseAction.FAIL, reason=f"Retry-After {wait:.0f}s is longer than we wait")
        return Resolution(
            ResponseAction.RETRY, self.delay(attempt) if wait is None else wait, f"status {status}"
        )

    def resolve_failure(self, method: str, attempt: int, *, sent: bool) -> Resolution:
        """Decide about a connection failure; ``sent`` says whether the request may have left."""
        if attempt >= self.max_attempts:
            return Resolution(ResponseAction.FAIL, reason=f"gave up after {attempt} attempts")
        if sent and method.upper() not in self.methods:
            return Resolution(ResponseAction.FAIL, reason=f"{method} may have been processed; not repeated")
        return Resolution(ResponseAction.RETRY, self.delay(attempt), "connection failed")


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(max_attempts=1)


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
