"""Where run journals commit: :class:`JournalWriter`, on the event loop for SQLite, in threads otherwise.

A flow run commits after every action that has side effects, so the serving process commits
hundreds of times a second; how each commit gets to the database is most of what a run costs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TypeVar, cast

from tether.store import Database, DirectConnection, FlowRuns

__all__ = ["CHECKPOINT_EVERY", "JournalWriter"]

T = TypeVar("T")
_log = logging.getLogger("tether.flows")

CHECKPOINT_EVERY = 200  # direct commits between WAL checkpoints (a few pages each; SQLite's own is 1000)
# Waiting for SQLite's write lock on the loop: 0.25 ms, doubling to 8 ms, about 0.4 s in all.
_BUSY_PAUSE, _BUSY_PAUSE_MAX, _BUSY_ATTEMPTS = 0.00025, 0.008, 60


def _transaction(db: Database, work: Callable[[FlowRuns], T]) -> T:
    with FlowRuns.journal(db) as runs:
        return work(runs)


class JournalWriter:
    """Where the journals of the runs advanced in one process commit.

    By default each commit runs in a worker thread (PostgreSQL: a network round trip must not
    hold the event loop). With ``direct=True`` on SQLite (the serving process's writer) commits
    run on the event loop through the journal's own connection: in WAL mode with
    ``synchronous=NORMAL`` a commit appends to the WAL without syncing, tens of microseconds,
    less than the hop to a thread and back it replaces. When another connection holds the write
    lock the loop is never blocked: the commit is retried after short sleeps, then handed to a
    thread that waits for the lock. WAL checkpoints, which do sync, run in a thread every
    ``CHECKPOINT_EVERY`` commits: PASSIVE, or TRUNCATE once the WAL is past its size limit
    (steady readers keep PASSIVE checkpoints from ever letting SQLite reuse the file).
    """

    def __init__(self, db: Database, *, direct: bool = False) -> None:
        self.db = db
        self._direct_wanted = direct and db.dialect == "sqlite"
        self._direct: DirectConnection | None = None  # opened by the first write, on the loop's thread
        self._owner: int | None = None  # that thread
        self._checkpoint: asyncio.Future[None] | None = None

    async def write(self, work: Callable[[FlowRuns], T]) -> T:
        """Run ``work`` in one committed transaction; returns its result."""
        if self._direct_wanted and self._owner is None:
            self._owner = threading.get_ident()
            self._direct = FlowRuns.open_direct(self.db)
        direct = self._direct
        if direct is not None and threading.get_ident() == self._owner:
            # Another connection holds the write lock for a moment (a session, another
            # process): wait for it here, without blocking the loop. Handing the commit to a
            # thread at once would make that thread the next holder, fighting the loop for
            # the GIL while it holds the lock, and every commit behind it would follow.
            pause = _BUSY_PAUSE
            for _attempt in range(_BUSY_ATTEMPTS):
                done, result = FlowRuns.attempt(direct, work)
                if done:
                    if direct.commits % CHECKPOINT_EVERY == 0 and self._checkpoint is None:
                        self._checkpoint = asyncio.ensure_future(self._checkpoint_wal())
                    return cast(T, result)
                await asyncio.sleep(pause)
                pause = min(pause * 2, _BUSY_PAUSE_MAX)
        # Still locked after that (a long transaction elsewhere): a thread waits for it.
        return await asyncio.to_thread(_transaction, self.db, work)

    async def _checkpoint_wal(self) -> None:
        try:
            await asyncio.to_thread(self.db.checkpoint_wal)
        except Exception:  # best effort: SQLite checkpoints on its own when another connection commits
            _log.warning("WAL checkpoint failed", exc_info=True)
        finally:
            self._checkpoint = None

    async def aclose(self) -> None:
        if self._checkpoint is not None:
            await self._checkpoint
        if self._direct is not None:
            self._direct.close()
            self._direct = None
        self._direct_wanted = False
