"""The async (long-running operation) pattern: ``202 Accepted`` + ``Location`` ⇒ poll.

The API accepts the work and says where to ask (``Location``) and when (``Retry-After``);
the runtime asks with GET until the answer is not 202, then that answer is the result.
A poll answer may move the ``Location``; ``Retry-After: 0`` means ask again at once.

A generator yields each ``Poll`` (URL and delay) and receives the poll's response, so the
protocol is tested without a network or real waiting. Bounded by ``timeout`` (on the clock
it is given) and ``max_polls``; running out raises ``UpstreamTimeout``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

from tether.errors import ConfigurationError
from tether.runtime._errors import UpstreamProtocolError, UpstreamTimeout
from tether.runtime._retry import retry_after

__all__ = ["DEFAULT_ASYNC_PATTERN", "AsyncPattern", "Poll", "poll_flow", "wants_polling"]


@dataclass(frozen=True)
class AsyncPattern:
    """Polling bounds: total ``timeout`` (s), ``max_polls``, the interval when the API gives none,
    and the longest ``Retry-After`` honoured as such (longer ones are shortened to it)."""

    timeout: float = 3600.0
    max_polls: int = 720
    default_interval: float = 5.0
    max_interval: float = 300.0

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.max_polls < 1 or self.default_interval < 0 or self.max_interval < 0:
            raise ConfigurationError("async pattern bounds must be positive")


DEFAULT_ASYNC_PATTERN = AsyncPattern()


@dataclass(frozen=True, slots=True)
class Poll:
    """Wait ``delay`` seconds, then GET ``url``."""

    url: httpx.URL
    delay: float


def wants_polling(response: httpx.Response) -> bool:
    """Whether ``response`` starts the async pattern (202 with a Location)."""
    return response.status_code == 202 and bool(response.headers.get("location"))


def poll_flow(
    response: httpx.Response,
    url: httpx.URL,
    pattern: AsyncPattern,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Generator[Poll, httpx.Response, httpx.Response]:
    """Yield polls while the answer is 202; return the first answer that is not."""
    deadline = clock() + pattern.timeout
    polls = 0
    while response.status_code == 202:
        location = response.headers.get("location")
        if location:
            try:
                url = url.join(location)
            except httpx.InvalidURL as exc:
                raise UpstreamProtocolError(f"the async operation gave an invalid Location: {exc}") from exc
        wait = retry_after(response.headers.get("retry-after"))
        delay = min(pattern.max_interval, pattern.default_interval if wait is None else wait)
        if polls >= pattern.max_polls or clock() + delay > deadline:
            raise UpstreamTimeout(
                f"the async operation did not finish within {pattern.timeout:g}s / {pattern.max_polls} polls "
                f"({polls} polls made)",
                detail={"polls": polls, "timeout": pattern.timeout},
            )
        polls += 1
        response = yield Poll(url, delay)
    return response
