"""Time for the engine: read the clock and wait, through one small interface.

Retries, Wait, Until, async polling and schedules all wait; tests replace the clock with a
:class:`VirtualClock` whose ``sleep`` moves time forward at once, so a retry policy of four
exponential retries or a ``PT1H`` Until limit is tested in milliseconds.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock", "VirtualClock"]


class Clock(Protocol):
    """Current UTC time and an awaitable wait."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


SYSTEM_CLOCK = SystemClock()


class VirtualClock:
    """A clock for tests: ``sleep`` advances virtual time instantly and records each wait."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, tzinfo=UTC)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=max(0.0, seconds))
        await asyncio.sleep(0)  # still yield, so concurrent branches interleave as they would

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
