"""The last test calls of each user on each connector, for the Test tab to compare.

Kept in the server process (bounded: :data:`CALLS_KEPT` per user and connector, at most
:data:`MAX_KEYS` pairs); a restart empties it, which is fine for a scratch area.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any

__all__ = ["CALLS_KEPT", "TestCall", "TestHistory"]

CALLS_KEPT = 20
MAX_KEYS = 10_000


@dataclass(frozen=True)
class TestCall:
    """One call made from the Test tab: what was asked and what came back."""

    number: int
    at: datetime
    operation_id: str
    connection: str
    status: int | None
    duration_ms: float
    headers: dict[str, str]
    body: Any
    warnings: tuple[str, ...]
    error: str | None = None
    request: str = ""


class TestHistory:
    """Calls by ``(user id, connector id)``, newest first."""

    def __init__(self) -> None:
        self._calls: OrderedDict[tuple[str, str], deque[TestCall]] = OrderedDict()
        self._lock = Lock()
        self._counter = 0

    def next_number(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def add(self, key: tuple[str, str], call: TestCall) -> None:
        with self._lock:
            calls = self._calls.setdefault(key, deque(maxlen=CALLS_KEPT))
            calls.appendleft(call)
            self._calls.move_to_end(key)
            while len(self._calls) > MAX_KEYS:
                self._calls.popitem(last=False)

    def calls(self, key: tuple[str, str]) -> list[TestCall]:
        with self._lock:
            return list(self._calls.get(key, ()))
