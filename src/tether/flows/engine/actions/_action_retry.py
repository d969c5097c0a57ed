"""The action's Logic Apps retry policy, spoken in the runtime transport's terms.

The runtime's transport asks its retry policy two questions (``resolve`` an answer,
``resolve_failure`` a connection failure) and gets decisions back. The workflow language
answers them differently from an operation call: 408, 429 and 5xx are retried for every method
(the Idempotency-Key header makes a repeat safe), ``count`` retries after the first try, waits
from the action's policy unless the API says ``Retry-After``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from tether.flows.engine._retry import DEFAULT_POLICY, RetryPolicy, retryable_status
from tether.flows.engine.actions._retrying import retry_after_seconds
from tether.runtime import Resolution, ResponseAction
from tether.runtime import RetryPolicy as TransportRetry

__all__ = ["ActionRetry"]


@dataclass(frozen=True)
class ActionRetry(TransportRetry):
    """A transport retry policy that decides as ``action_policy`` (a workflow ``retryPolicy``) says."""

    action_policy: RetryPolicy = DEFAULT_POLICY
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_attempts", self.action_policy.count + 1)
        super().__post_init__()

    def resolve(self, method: str, status: int, attempt: int, retry_after_header: str | None) -> Resolution:
        if not retryable_status(status):
            return Resolution(ResponseAction.SUCCESS if status < 400 else ResponseAction.FAIL)
        if attempt >= self.max_attempts:
            return Resolution(ResponseAction.FAIL, reason=f"gave up after {attempt} attempts")
        wait = retry_after_seconds({"Retry-After": retry_after_header or ""}, time.time())
        delay = self.action_policy.wait(attempt, self.rng) if wait is None else wait
        return Resolution(ResponseAction.RETRY, delay, f"status {status}")

    def resolve_failure(self, method: str, attempt: int, *, sent: bool) -> Resolution:
        if attempt >= self.max_attempts:
            return Resolution(ResponseAction.FAIL, reason=f"gave up after {attempt} attempts")
        delay = self.action_policy.wait(attempt, self.rng)
        return Resolution(ResponseAction.RETRY, delay, "connection failed")
