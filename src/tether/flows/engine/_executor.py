"""Executors: who advances runs. The embedded one runs them as asyncio tasks in this process.

An executor only needs ``submit(run_id)``: the run's state is in the database, and "advance this
run" (load, execute or resume, journal) is one coroutine given by the services layer. A Celery
executor submits the same run id as a task whose body calls that same coroutine.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["DEFAULT_MAX_RUNS", "EmbeddedExecutor", "Executor"]

DEFAULT_MAX_RUNS = 200
_log = logging.getLogger("tether.flows")


class Executor(Protocol):
    """Runs submitted runs to completion (or resumes them) somewhere."""

    def submit(self, run_id: str) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class EmbeddedExecutor:
    """Advances runs in this process's event loop, at most ``max_runs`` at once.

    ``submit`` is thread-safe (sync API routes run in a thread pool) and ignores a run already
    being advanced here. ``stop`` cancels what is running; those runs resume on the next start
    from what their journal committed.
    """

    def __init__(
        self, advance: Callable[[str], Awaitable[None]], *, max_runs: int = DEFAULT_MAX_RUNS
    ) -> None:
        self._advance = advance
        self._gate = asyncio.Semaphore(max_runs)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    def submit(self, run_id: str) -> None:
        if self._loop is None:
            raise RuntimeError("the embedded executor is not started")
        if threading.get_ident() == self._thread:
            self._spawn(run_id)
        else:
            self._loop.call_soon_threadsafe(self._spawn, run_id)

    def _spawn(self, run_id: str) -> None:
        if run_id in self._tasks:
            return
        task = asyncio.get_running_loop().create_task(self._guarded(run_id), name=f"run-{run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(run_id, None))

    async def _guarded(self, run_id: str) -> None:
        async with self._gate:
            try:
                await self._advance(run_id)
            except asyncio.CancelledError:
                raise
            except Exception:  # one broken run must not stop the executor; its journal keeps its state
                _log.exception("run %s stopped with an internal error", run_id)

    async def drain(self) -> None:
        """Wait until every submitted run has finished (tests, graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    @property
    def active(self) -> int:
        return len(self._tasks)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None
