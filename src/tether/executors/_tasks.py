"""The ``tether.advance_run`` task: take the run's lease, then advance it with the services' coroutine.

The task body is the same coroutine the embedded executor awaits (load the run, execute or resume
it, commit every action through the database journal); this module only adds what a fleet of
workers needs around it: the lease, a watch on the lease while the run goes on, and one event
loop and one database per worker process (prefork children each make their own after the fork).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from celery import Celery, Task
from celery.exceptions import Reject

from tether import services, telemetry
from tether.config import Settings
from tether.errors import TetherError
from tether.executors._app import ADVANCE_RUN_TASK
from tether.executors._lease import LeaseBook, RunLease
from tether.store import Database

__all__ = [
    "LEASE_CHECK_INTERVAL",
    "NOT_CLAIMED",
    "Advance",
    "AdvanceFactory",
    "LeaseLost",
    "RunAdvance",
    "WorkerHost",
    "advance_leased",
    "register_tasks",
]

#: Seconds between checks that a long-running run's lease is still held.
LEASE_CHECK_INTERVAL = 5.0
#: Retries (with growing pauses) of a run whose advance hit a transient error such as a busy database.
MAX_TRANSIENT_RETRIES = 5

#: Advances one run (the lease already taken): what :func:`advance_leased` calls.
Advance = Callable[[str], Awaitable[None]]


#: ``advance(..., claimed=NOT_CLAIMED)``: the run was not claimed beforehand, the advance claims it.
NOT_CLAIMED: Any = object()


class RunAdvance(Protocol):
    """A worker process's ``advance(run_id, reply_to=..., claimed=...)``: ``reply_to`` names the
    Redis channel of the server whose caller waits for the run's answer (None: nobody waits,
    publish nothing); ``claimed`` is what :meth:`claim` returned for the run (None: nothing to
    advance), or :data:`NOT_CLAIMED`.

    :meth:`claim` blocks on the database; :class:`WorkerHost` calls it on the Celery pool thread
    that waits for the run anyway, right after taking the lease, which spares the event loop a
    hop to a thread and back for every run.
    """

    def claim(self, run_id: str) -> Any: ...

    def __call__(
        self, run_id: str, *, reply_to: str | None = None, claimed: Any = NOT_CLAIMED
    ) -> Awaitable[None]: ...


#: Builds a worker process's advance coroutine from its database and settings (called on the
#: process's event loop); returns it with a close function for shutdown.
AdvanceFactory = Callable[[Database, Settings], tuple[RunAdvance, Callable[[], Awaitable[None]]]]
_log = logging.getLogger("tether.executors")


class LeaseLost(TetherError):
    """This worker lost a run's lease while advancing it (its database connection went away)."""

    code = "lease-lost"
    retryable = True


async def advance_leased(
    database: Database,
    advance: Advance,
    run_id: str,
    *,
    check_interval: float = LEASE_CHECK_INTERVAL,
    lease: RunLease | None = None,
) -> bool:
    """Advance ``run_id`` under its lease; ``False`` if another worker holds the lease right now.

    While the run goes on the lease is checked every ``check_interval`` seconds; if it is lost the
    run is cancelled here (its journal keeps what was done) and :class:`LeaseLost` is raised.
    ``lease``: already taken by the caller, who gives it back (a worker's pool thread does both
    itself, sparing the event loop two hops to a thread per run).
    """
    own = lease is None
    if lease is None:
        lease = RunLease(database, run_id)
        if not await asyncio.to_thread(lease.acquire):
            return False
    try:
        work = asyncio.ensure_future(advance(run_id))
        while True:
            done, _pending = await asyncio.wait({work}, timeout=check_interval)
            if done:
                work.result()
                return True
            if not await asyncio.to_thread(lease.alive):
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
                raise LeaseLost(f"lost the lease of run {run_id} while advancing it")
    finally:
        if own:
            await asyncio.to_thread(lease.release)


class WorkerHost:
    """What one worker process keeps between tasks: one event loop (on a thread of its own), one
    database, the advance coroutine.

    Every task of the process runs on that one loop, whatever Celery's pool: with ``--pool threads``
    (the default) one process advances ``concurrency`` runs at once, sharing its connection pools
    and caches, and a task costs a hand-over to the loop rather than a pickled trip to a child
    process; prefork children each make their own loop after the fork.
    """

    def __init__(self, settings: Settings, factory: AdvanceFactory) -> None:
        self.settings = settings
        self.factory = factory
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._database: Database | None = None
        self._advance: RunAdvance | None = None
        self._close: Callable[[], Awaitable[None]] | None = None
        self._lock = threading.Lock()  # pool threads start together: one of them builds the loop

    def _ensure(self) -> tuple[asyncio.AbstractEventLoop, Database, RunAdvance]:
        with self._lock:
            if self._pid != os.getpid():  # first task, or first task of a forked child
                self._start()
        assert self._loop is not None and self._database is not None and self._advance is not None
        return self._loop, self._database, self._advance

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="tether-runs", daemon=True)
        thread.start()
        if self.settings.otlp_endpoint:
            # Per process: a forked child has no exporter thread. Runs' spans go where the server's do.
            telemetry.configure_tracing(self.settings.otlp_endpoint)
        database = Database(self.settings.database_url)
        # The same token-call timeout as the server (TETHER_OAUTH_TOKEN_TIMEOUT) for refreshes here.
        policy = services.RefreshPolicy(timeout=self.settings.oauth_token_timeout)
        services.configure_token_refresh(database, policy)

        async def build() -> tuple[RunAdvance, Callable[[], Awaitable[None]]]:
            return self.factory(database, self.settings)  # on the loop: what it opens belongs there

        advance, close = asyncio.run_coroutine_threadsafe(build(), loop).result()
        self._loop, self._thread, self._database = loop, thread, database
        self._advance, self._close, self._pid = advance, close, os.getpid()

    def run(self, run_id: str, reply_to: str | None = None) -> bool:
        """Advance one run to its end (or until it waits) on the process's loop; blocks the calling
        pool thread meanwhile. ``reply_to``: the channel of the server waiting for its answer."""
        loop, database, advance = self._ensure()
        lease = RunLease(database, run_id)
        if not lease.acquire():  # here, on the pool thread, which waits anyway
            return False
        try:
            claimed = advance.claim(run_id)  # likewise: one blocking transaction

            async def leased() -> bool:
                bound = functools.partial(advance, reply_to=reply_to, claimed=claimed)
                return await advance_leased(database, bound, run_id, lease=lease)

            return asyncio.run_coroutine_threadsafe(leased(), loop).result()
        finally:
            lease.release()

    def close(self) -> None:
        """Release this process's connections and stop its loop (worker shutdown)."""
        with self._lock:
            if self._pid != os.getpid() or self._loop is None:
                return
            loop, thread, close = self._loop, self._thread, self._close

            async def closing() -> None:
                if close is not None:
                    await close()

            try:
                asyncio.run_coroutine_threadsafe(closing(), loop).result(timeout=30)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                if thread is not None:
                    thread.join(timeout=10)
                loop.close()
                if self._database is not None:
                    LeaseBook.of(self._database).close()
                    self._database.close()
                self._pid = self._loop = self._thread = self._database = self._advance = self._close = None


def register_tasks(app: Celery, runtime: WorkerHost) -> Task:
    """Register ``tether.advance_run`` on ``app``, executed by ``runtime``; returns the task."""

    # Celery ships no types, so its task decorator is untyped.
    @app.task(  # type: ignore[untyped-decorator]
        name=ADVANCE_RUN_TASK, bind=True, acks_late=True, reject_on_worker_lost=True
    )
    def advance_run(self: Task, run_id: str, reply_to: str | None = None) -> None:
        """Advance one run. Duplicate deliveries find the run leased (or finished) and do nothing."""
        try:
            advanced = runtime.run(run_id, reply_to)
        except LeaseLost as exc:
            # Whoever can take the lease now should finish the run: put the task back.
            _log.warning("run %s: %s; requeued", run_id, exc)
            raise Reject(str(exc), requeue=True) from exc
        except TetherError as exc:
            if not exc.retryable:
                raise
            retries = self.request.retries
            _log.warning("run %s: %s; retry %d of %d", run_id, exc, retries + 1, MAX_TRANSIENT_RETRIES)
            pause = min(2**retries, 30)
            raise self.retry(exc=exc, countdown=pause, max_retries=MAX_TRANSIENT_RETRIES) from exc
        if not advanced:
            _log.info("run %s is being advanced by another worker; this delivery is dropped", run_id)

    return advance_run
