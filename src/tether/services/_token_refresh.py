"""When connection tokens are renewed and how patiently, and which renewals are in flight here.

One :class:`RefreshPolicy` per database (the server sets it from its settings at start, see
:func:`configure_token_refresh`), and per event loop the one renewal task of each connection, which
every caller in this process that needs a new token awaits instead of starting its own.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from tether.auth import DEFAULT_REFRESH_WINDOW, TokenSet
from tether.errors import ConfigurationError
from tether.store import Database

__all__ = ["DEFAULT_REFRESH_POLICY", "RefreshPolicy", "Refresher", "configure_token_refresh", "refresher_for"]


@dataclass(frozen=True)
class RefreshPolicy:
    """When and how patiently connection tokens are renewed (one per database, see
    :func:`configure_token_refresh`).

    Args:
        window: the longest a token is renewed before it expires (short tokens: half their lifetime).
        timeout: seconds one token-endpoint call may take; past it the outcome is unknown.
        first_retry: seconds before the first retry after a failed renewal; doubles per failure.
        max_retry: the longest back-off, in seconds.
        poll: seconds between re-reads while another process holds the renewal lease.
    """

    window: timedelta = DEFAULT_REFRESH_WINDOW
    timeout: float = 30.0
    first_retry: float = 1.0
    max_retry: float = 60.0
    poll: float = 0.1

    def __post_init__(self) -> None:
        numbers = {"timeout": self.timeout, "first_retry": self.first_retry, "max_retry": self.max_retry}
        bad = [name for name, value in {**numbers, "poll": self.poll}.items() if not value > 0]
        if bad or self.window <= timedelta(0):
            raise ConfigurationError(f"token refresh policy: {', '.join(bad) or 'window'} must be positive")

    @property
    def lease(self) -> timedelta:
        """How long a claimed renewal stays claimed: the call's timeout plus room to write its result."""
        return timedelta(seconds=self.timeout + 10.0)

    def backoff(self, failures: int) -> timedelta:
        """The wait before the next try after ``failures`` failed renewals in a row."""
        return timedelta(seconds=min(self.max_retry, self.first_retry * 2 ** max(0, failures - 1)))


DEFAULT_REFRESH_POLICY: Final = RefreshPolicy()


class Refresher:
    """One database's renewals in this process: the policy, and the renewal in flight per connection.

    Flights are kept per event loop (a task belongs to its loop; tests and the CLI run several).
    """

    def __init__(self, policy: RefreshPolicy) -> None:
        self.policy = policy
        self._flights: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Task[TokenSet]]]
        self._flights = weakref.WeakKeyDictionary()

    def join(
        self, connection_id: str, start: Callable[[], Coroutine[Any, Any, TokenSet]]
    ) -> asyncio.Task[TokenSet]:
        """The renewal in flight for ``connection_id``, started with ``start()`` if there is none."""
        loop = asyncio.get_running_loop()
        flights = self._flights.setdefault(loop, {})
        task = flights.get(connection_id)
        if task is None or task.done():
            task = loop.create_task(start(), name=f"tether-token-refresh-{connection_id}")
            flights[connection_id] = task

            def forget(done: asyncio.Task[TokenSet]) -> None:
                if flights.get(connection_id) is done:
                    del flights[connection_id]
                if not done.cancelled():
                    done.exception()  # retrieved: every waiter got it already

            task.add_done_callback(forget)
        return task


_REFRESHERS: weakref.WeakKeyDictionary[Database, Refresher] = weakref.WeakKeyDictionary()


def refresher_for(db: Database) -> Refresher:
    """The database's refresher in this process (made with the default policy on first use)."""
    found = _REFRESHERS.get(db)
    if found is None:
        found = _REFRESHERS[db] = Refresher(DEFAULT_REFRESH_POLICY)
    return found


def configure_token_refresh(db: Database, policy: RefreshPolicy) -> None:
    """Renew ``db``'s connection tokens with ``policy`` in this process (the server calls it at start)."""
    refresher_for(db).policy = policy
