"""How often to look at a running flow: soon at first, then less often."""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["DEFAULT_RUN_TIMEOUT", "backoff"]

DEFAULT_RUN_TIMEOUT = 60.0
FIRST_DELAY = 0.05
GROWTH = 1.6
MAX_DELAY = 2.0


def backoff(*, first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> Iterator[float]:
    """Pauses between two looks, growing geometrically up to ``cap`` seconds.

    A run of a few actions ends within a few hundred milliseconds, so the first looks come
    quickly; a long run is then looked at every ``cap`` seconds instead of hammering the server.
    The caller stops at its own deadline.
    """
    delay = first
    while True:
        yield delay
        delay = min(delay * GROWTH, cap)
