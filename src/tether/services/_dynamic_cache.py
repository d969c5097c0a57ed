"""Answers of the operations behind dynamic inputs, kept briefly per connection.

A form (or an agent listing tools) asks for the same list of boards, forms or content types
again and again while a user fills it; the API behind a connection should not be called for
each. The answers are kept for ``ttl`` seconds under (connection, revision, operation, arguments),
at most ``max_size`` of them, oldest dropped first. Time comes from ``clock`` so tests move it
instead of sleeping.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["DEFAULT_DYNAMIC_MAX_SIZE", "DEFAULT_DYNAMIC_TTL", "DynamicCache"]

DEFAULT_DYNAMIC_TTL: Final = 60.0
DEFAULT_DYNAMIC_MAX_SIZE: Final = 512

Key = tuple[str, int, str, str]


class DynamicCache:
    """A thread-safe, bounded map of recent answers that forgets each after ``ttl`` seconds."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_DYNAMIC_TTL,
        max_size: int = DEFAULT_DYNAMIC_MAX_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._items: OrderedDict[Key, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(connection_id: str, revision: int, operation_id: str, arguments: Mapping[str, Any]) -> Key:
        """The key of one call: the same arguments in any order are the same call."""
        return (connection_id, revision, operation_id, json.dumps(arguments, sort_keys=True, default=str))

    def get(self, key: Key) -> tuple[bool, Any]:
        """``(True, answer)`` while a fresh answer is kept, else ``(False, None)``."""
        now = self._clock()
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return False, None
            if found[0] <= now:
                del self._items[key]
                return False, None
            return True, found[1]

    def put(self, key: Key, answer: Any) -> None:
        """Keep ``answer`` for ``ttl`` seconds (nothing is kept when ``ttl`` is 0)."""
        if self.ttl <= 0:
            return
        expires = self._clock() + self.ttl
        with self._lock:
            self._items[key] = (expires, answer)
            self._items.move_to_end(key)
            while len(self._items) > self.max_size:
                self._items.popitem(last=False)

    def forget(self, connection_id: str) -> None:
        """Drop every answer of one connection (its credentials or connector changed)."""
        with self._lock:
            for key in [k for k in self._items if k[0] == connection_id]:
                del self._items[key]

    def __len__(self) -> int:
        return len(self._items)
