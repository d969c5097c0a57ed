"""A read-through cache for what every API call reads: who a token belongs to, a connection made ready.

The invoke endpoint's budget is a couple of milliseconds, and a database round trip per fact
(token, environment, membership, connection, settings) spends it several times over. So the
hot path reads those facts once and reuses them while two things hold:

- no transaction committed through this process's :class:`~tether.store.Database` changed a
  table the entry was read from (``Database.writes``), so a revoked token, a deleted connection
  or a tightened network policy applies to the very next call handled here;
- the entry is younger than ``ttl`` seconds, which bounds how long a change made by *another*
  process (a second ``tether serve``, an admin script) can go unseen.

Only successes are cached: a refusal is always decided afresh. Concurrent misses for one key
wait for a single read (otherwise every request in flight when an entry expires would queue
for the database at once).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Final, Generic, TypeVar

from tether.store import Database

__all__ = ["DEFAULT_READ_TTL", "ReadCache"]

V = TypeVar("V")

DEFAULT_READ_TTL: Final = 2.0  # seconds a change made by another process may go unseen


class ReadCache(Generic[V]):
    """Values read from ``db``'s ``tables``, reused until those tables change here or ``ttl`` passes.

    cache = ReadCache(db, ["personal_access_tokens", "users"])
    stamp = cache.stamp()              # before reading
    value = cache.get(key)
    if value is None:
        value = read_from_database()
        cache.put(key, value, stamp)   # an entry read before a write is never trusted after it
    """

    def __init__(
        self, db: Database, tables: Iterable[str], *, ttl: float = DEFAULT_READ_TTL, size: int = 4096
    ) -> None:
        self._db = db
        self._tables = tuple(tables)
        self._ttl = ttl
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[V, int, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._reads: dict[Hashable, asyncio.Future[V]] = {}

    def stamp(self) -> int:
        """The tables' write count now: take it before reading what is cached."""
        return self._db.writes(self._tables)

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, stamp, expires = entry
        if stamp != self.stamp() or time.monotonic() >= expires:
            with self._lock:
                self._entries.pop(key, None)
            return None
        return value

    def put(self, key: Hashable, value: V, stamp: int, *, ttl: float | None = None) -> None:
        """Keep ``value`` read at ``stamp`` for ``ttl`` seconds at most (less: a token about to expire)."""
        lifetime = self._ttl if ttl is None else min(ttl, self._ttl)
        if lifetime <= 0:
            return
        with self._lock:
            self._entries[key] = (value, stamp, time.monotonic() + lifetime)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    async def read_through(self, key: Hashable, read: Callable[[], tuple[V, float | None]]) -> V:
        """The cached value, else ``read()`` (run in a worker thread; gives the value and its ``ttl``).

        While one read for ``key`` is under way, other callers wait for its answer (or its error).
        """
        value = self.get(key)
        if value is not None:
            return value
        pending = self._reads.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._reads[key] = future
        try:
            stamp = self.stamp()
            fresh, ttl = await asyncio.to_thread(read)
            self.put(key, fresh, stamp, ttl=ttl)
            future.set_result(fresh)
            return fresh
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters (if any) get it raised; none is fine too
            raise
        finally:
            del self._reads[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
