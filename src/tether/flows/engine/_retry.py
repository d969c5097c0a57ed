"""Retry policies of the workflow language, as a small value that computes waits.

``default`` is 4 retries, exponential from 7.5 s, each wait kept within 5-45 s; ``none``;
``fixed`` (count, interval); ``exponential`` (count 1-90, interval, minimumInterval,
maximumInterval). A ``Retry-After`` header wins over the computed wait. Statuses worth
retrying are 408, 429 and 5xx, plus connection failures (status ``None``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tether.errors import InputError
from tether.flows.engine._durations import duration_seconds

__all__ = ["DEFAULT_POLICY", "NO_RETRY", "RetryPolicy", "retryable_status"]


def retryable_status(status: int | None) -> bool:
    """408, 429, 5xx, or no answer at all (``None``: the connection failed)."""
    return status is None or status in (408, 429) or 500 <= status <= 599


@dataclass(frozen=True)
class RetryPolicy:
    """How many retries and how long to wait before each; ``wait(n)`` is for retry ``n`` (1-based)."""

    kind: str = "exponential"
    count: int = 4
    interval: float = 7.5
    minimum: float = 5.0
    maximum: float = 45.0

    def wait(self, retry: int, rng: random.Random | None = None) -> float:
        if self.kind == "fixed":
            return self.interval
        # Logic Apps draws the n-th wait from around interval·2^(n-1) (±20%), then bounds it.
        uniform = rng.uniform if rng is not None else random.uniform
        base = self.interval * (2 ** (retry - 1))
        return float(min(self.maximum, max(self.minimum, base * uniform(0.8, 1.2))))

    @classmethod
    def from_definition(cls, raw: Any) -> RetryPolicy:
        """Read ``inputs.retryPolicy`` (missing means the default policy)."""
        if raw is None:
            return DEFAULT_POLICY
        if not isinstance(raw, Mapping):
            raise InputError("retryPolicy must be an object with a 'type'")
        kind = str(raw.get("type", "")).lower()
        if kind == "none":
            return NO_RETRY
        if kind == "default":
            return DEFAULT_POLICY
        count = int(raw.get("count", 4))
        if not 0 <= count <= 90:
            raise InputError(f"retryPolicy count must be between 0 and 90, not {count}")
        interval = _seconds(raw.get("interval"), 7.5 if kind == "exponential" else 20.0)
        if kind == "fixed":
            return cls("fixed", count, interval, interval, interval)
        if kind == "exponential":
            minimum = _seconds(raw.get("minimumInterval"), 5.0)
            maximum = _seconds(raw.get("maximumInterval"), 3600.0)
            return cls("exponential", count, interval, minimum, maximum)
        raise InputError(
            f"retryPolicy type {raw.get('type')!r} is not one of default, none, fixed, exponential"
        )


def _seconds(value: Any, default: float) -> float:
    return default if value in (None, "") else duration_seconds(str(value))


DEFAULT_POLICY = RetryPolicy()
NO_RETRY = RetryPolicy("none", 0, 0.0, 0.0, 0.0)
