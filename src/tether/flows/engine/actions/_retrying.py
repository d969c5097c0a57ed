"""Sending with the action's retry policy: 408, 429, 5xx and connection failures are retried.

Each retried attempt is kept in the action's retry history. ``Retry-After`` (seconds or an HTTP
date) replaces the policy's computed wait. Waits go through the step, so they count against the
action's timeout and use the run's (injectable) clock.
"""

from __future__ import annotations

import email.utils
import http
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from tether.flows.engine._errors import ActionFailure
from tether.flows.engine._model import isoformat
from tether.flows.engine._retry import RetryPolicy, retryable_status
from tether.flows.engine._step import Step

__all__ = ["Reply", "header", "retry_after_seconds", "send_with_retries", "status_code_name"]

Reply = tuple[int, Mapping[str, str], Any]


def header(headers: Mapping[str, str], name: str) -> str | None:
    folded = name.lower()
    return next((str(v) for k, v in headers.items() if k.lower() == folded), None)


def status_code_name(status: int) -> str:
    """Logic Apps' ``code`` for an HTTP status: ``OK``, ``NotFound``, ``TooManyRequests``."""
    try:
        return http.HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return str(status)


def retry_after_seconds(headers: Mapping[str, str], now_timestamp: float) -> float | None:
    value = header(headers, "Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - now_timestamp)


async def send_with_retries(step: Step, policy: RetryPolicy, send: Callable[[], Awaitable[Reply]]) -> Reply:
    """Call ``send`` until it answers with a final status or the policy gives up."""
    clock = step.services.clock
    retry = 0
    while True:
        started = clock.now()
        error: str | None = None
        try:
            status, headers, body = await send()
        except (httpx.TransportError, ConnectionError, OSError) as exc:
            status, headers, body, error = None, {}, None, f"{type(exc).__name__}: {exc}"
        if not retryable_status(status) or retry >= policy.count:
            if status is None:
                raise ActionFailure(
                    "ServiceUnreachable", f"The request failed after {retry + 1} attempt(s): {error}"
                )
            return status, headers, body
        retry += 1
        wait = retry_after_seconds(headers, clock.now().timestamp())
        if wait is None:
            wait = policy.wait(retry, step.services.rng)
        entry: dict[str, Any] = {
            "startTime": isoformat(started),
            "endTime": isoformat(clock.now()),
            "code": status_code_name(status) if status else "ServiceUnreachable",
            "waitSeconds": round(wait, 3),
        }
        if error:
            entry["error"] = {"code": "ServiceUnreachable", "message": error}
        step.record.retries.append(entry)
        await step.sleep(wait)
