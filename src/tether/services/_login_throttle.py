"""Throttled password sign-ins: a few wrong passwords per minute, per user name and per client address.

Passwords are guessable, and Argon2 only slows each guess down; this caps how many guesses an
attacker gets. Both keys count: per user name stops a distributed attack on one account, per
address stops one client spraying many accounts. Unknown user names count exactly like known
ones, so being throttled reveals nothing about which accounts exist. While a key is throttled
even the right password is refused (else guessing simply continues), until its window has passed.

The counts live in this process's memory: several ``tether serve`` processes each allow the
limit (a distributed deployment would keep them in Redis, as DESIGN.md plans for shared counters).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Final

from tether.errors import TetherError

__all__ = ["DEFAULT_LOGIN_LIMIT", "DEFAULT_LOGIN_WINDOW", "LoginThrottle", "LoginThrottled"]

DEFAULT_LOGIN_LIMIT: Final = 5
DEFAULT_LOGIN_WINDOW: Final = 60.0
# Keys remembered at most (oldest dropped first), so a flood of random names cannot fill memory.
_MAX_KEYS: Final = 100_000


class LoginThrottled(TetherError):
    """Too many wrong passwords for this user name or from this address (HTTP 429 + ``Retry-After``)."""

    code = "login-throttled"
    status = 429
    retryable = True

    def __init__(self, retry_after: float) -> None:
        wait = max(1, math.ceil(retry_after))
        super().__init__(
            f"Too many failed sign-ins; wait {wait} s and try again (or sign in with a personal access "
            "token).",
            detail={"retry_after": wait},
        )
        self.retry_after = wait


class LoginThrottle:
    """A sliding window of failed sign-ins per key (``limit`` failures within ``window`` seconds).

    Thread-safe: the API checks passwords in worker threads.
    """

    def __init__(
        self,
        *,
        limit: int = DEFAULT_LOGIN_LIMIT,
        window: float = DEFAULT_LOGIN_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, username: str, address: str | None) -> None:
        """Raise :class:`LoginThrottled` if either key used up its failures within the window."""
        now = self._clock()
        with self._lock:
            waits = [self._wait(key, now) for key in _keys(username, address)]
        longest = max(waits, default=0.0)
        if longest > 0:
            raise LoginThrottled(longest)

    def failed(self, username: str, address: str | None) -> None:
        """Count one wrong password (or unknown user name) against both keys."""
        now = self._clock()
        with self._lock:
            for key in _keys(username, address):
                times = self._failures.pop(key, None) or deque()
                times.append(now)
                while len(times) > self.limit:
                    times.popleft()
                self._failures[key] = times  # re-inserted last: the most recently active
            while len(self._failures) > _MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        """Forget the user name's failures (the address keeps its count: it may be spraying)."""
        with self._lock:
            self._failures.pop(_user_key(username), None)

    def _wait(self, key: str, now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            return 0.0
        return self.window - (now - times[0])


def _user_key(username: str) -> str:
    return "user:" + username.strip().lower()


def _keys(username: str, address: str | None) -> list[str]:
    keys = [_user_key(username)]
    if address:
        keys.append("address:" + address)
    return keys
