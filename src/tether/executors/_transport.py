"""kombu's Redis transport with one Redis client per channel instead of one per command.

kombu's Redis channel builds a new ``redis.Redis`` object for every synchronous command it sends
outside its polling loop (``conn_or_acquire``): with ``acks_late`` that is two per task — the
unacknowledged-message bookkeeping when a task arrives and its removal at the ack — and a
``redis.Redis`` costs tens of microseconds to build (its response-callback tables). The clients
share the channel's connection pool anyway, so one is kept and reused; it is thread-safe, as
redis-py clients are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis

__all__ = ["TRANSPORT", "Channel", "Transport"]

#: What ``broker_transport`` names for a ``redis://`` broker.
TRANSPORT = "tether.executors._transport:Transport"


class Channel(kombu_redis.Channel):
    """A kombu Redis channel that reuses one client for its synchronous commands."""

    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        if self._shared_client is None:
            self._shared_client = self._create_client()  # type: ignore[no-untyped-call]
        yield self._shared_client

    def close(self) -> None:
        self._shared_client = None
        super().close()  # type: ignore[no-untyped-call]


class Transport(kombu_redis.Transport):
    """kombu's Redis transport, with :class:`Channel`."""

    Channel = Channel
