"""The per-connection request budget (Power Platform: 500 requests per minute per connection).

A connection that exceeds it gets ``RateLimited`` (HTTP 429 with ``Retry-After``) from
Tether itself, without the request reaching the upstream API: one runaway flow must not get
a user's API key banned or starve the other connections of a worker.

The in-memory limiter is a token bucket per connection: ``limit`` requests are allowed at
once, refilled evenly over ``period`` seconds. Distributed deployments swap in a shared
limiter (Redis) with the same one-method interface.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tether.errors import ConfigurationError

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "NO_RATE_LIMIT",
    "NoRateLimit",
    "RateLimit",
    "RateLimiter",
    "TokenBucketLimiter",
]


class RateLimiter(Protocol):
    """Grants one request to a connection or says how long to wait."""

    def acquire(self, key: str) -> float | None:
        """None when the request may go now, else the seconds until it may."""
        ...


@dataclass(frozen=True)
class RateLimit:
    """``limit`` requests per ``period`` seconds, per connection."""

    limit: int = 500
    period: float = 60.0

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0:
            raise ConfigurationError(
                f"a rate limit needs a positive count and period, not {self.limit} per {self.period} s"
            )

    def limiter(self) -> TokenBucketLimiter:
        """A fresh in-memory limiter enforcing this limit."""
        return TokenBucketLimiter(self)


DEFAULT_RATE_LIMIT = RateLimit()
# Buckets kept in memory; the least recently used connections are forgotten beyond this
# (a forgotten connection simply starts again with a full bucket).
MAX_TRACKED_CONNECTIONS = 100_000


class TokenBucketLimiter:
    """An in-process token bucket per key (a connection id)."""

    def __init__(
        self, rate: RateLimit = DEFAULT_RATE_LIMIT, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.clock = clock
        self._refill_per_second = rate.limit / rate.period
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key ⇒ (tokens, updated)

    def acquire(self, key: str) -> float | None:
        now = self.clock()
        tokens, updated = self._buckets.pop(key, (float(self.rate.limit), now))
        tokens = min(float(self.rate.limit), tokens + (now - updated) * self._refill_per_second)
        wait = None
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self._refill_per_second
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > MAX_TRACKED_CONNECTIONS:
            self._buckets.popitem(last=False)
        return wait


class NoRateLimit:
    """The null limiter: every request may go (benchmarks, trusted batch jobs)."""

    def acquire(self, key: str) -> float | None:
        return None


NO_RATE_LIMIT = NoRateLimit()
