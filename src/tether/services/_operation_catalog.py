"""Described operations kept per connector revision: listing them should not rebuild their schemas.

Turning a big connector's schemas into JSON-safe copies takes up to ~0.2 s (Azure Machine
Learning, 119 operations), and an agent lists tools often. A revision never changes once
saved, so its descriptions are kept under the same key the compiled revision is (connector
id, revision), in a bounded LRU; the entries are shared, so callers must not mutate them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, Generic, TypeVar

__all__ = ["DEFAULT_CATALOG_SIZE", "OperationCatalog"]

DEFAULT_CATALOG_SIZE: Final = 64
T = TypeVar("T")


class OperationCatalog(Generic[T]):
    """A thread-safe LRU of per-revision descriptions, at most ``max_size`` revisions."""

    def __init__(self, max_size: int = DEFAULT_CATALOG_SIZE) -> None:
        self.max_size = max_size
        self._items: OrderedDict[tuple[str, int], T] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # how many times a revision was described (tests read it)

    def get(self, connector_id: str, revision: int, build: Callable[[], T]) -> T:
        """The description of the revision; on a miss ``build()`` makes it (outside the lock)."""
        key = (connector_id, revision)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        built = build()  # two threads may both build on a cold key: same value, no lock held meanwhile
        with self._lock:
            self.builds += 1
            self._items[key] = built
            while len(self._items) > self.max_size:
                self._items.popitem(last=False)
        return built
