"""The ids that tie a user's error answer, the log lines and the trace of one piece of work together.

A request id comes with each API request (the client's ``X-Request-Id`` when it is a sane token,
else a fresh one) and a run id with each flow run. Both live in context variables, so every log
record, span and problem+json answer made while handling that request or run can name them
without any layer passing them down.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = [
    "current_request_id",
    "current_run_id",
    "request_id_from",
    "running",
    "set_request_id",
]

# Letters, digits and a few separators, at most 128: what load balancers and clients send
# (UUIDs, ULIDs, "req-…"). Anything else could smuggle text into log lines, so it is replaced.
_SANE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

_request_id: ContextVar[str] = ContextVar("tether_request_id", default="")
_run_id: ContextVar[str] = ContextVar("tether_run_id", default="")


def request_id_from(header: str | None) -> str:
    """The client's ``X-Request-Id`` when it is a sane token, else a new random one."""
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def set_request_id(request_id: str) -> None:
    """Name the request the current task is handling (read back by logs, spans and error answers)."""
    _request_id.set(request_id)


def current_request_id() -> str:
    """The id of the API request being handled, or ``""`` outside one."""
    return _request_id.get()


def current_run_id() -> str:
    """The id of the flow run being executed, or ``""`` outside one."""
    return _run_id.get()


@contextmanager
def running(run_id: str) -> Iterator[None]:
    """Within the block the current task executes ``run_id``; afterwards, whatever it did before
    (a task that advances several runs in turn never stamps one run's id on the next's lines)."""
    token = _run_id.set(run_id)
    try:
        yield
    finally:
        _run_id.reset(token)
