"""Where run journals commit: :class:`JournalWriter`, group commits on the event loop for SQLite,
threads otherwise.

A flow run commits after every action that has side effects, so the serving process commits
hundreds of times a second; how each commit gets to the database is most of what a run costs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from tether.store import Database, DirectConnection, FlowRuns

__all__ = ["CHECKPOINT_EVERY", "JournalWriter"]

T = TypeVar("T")
_log = logging.getLogger("tether.flows")

CHECKPOINT_EVERY = 200  # journal writes between WAL checkpoints (a few pages each; SQLite's own is 1000)
# Waiting for SQLite's write lock on the loop: 0.1 ms, doubling to 2 ms, about 0.4 s in all. Short
# pauses: another process holds the lock for one group commit (well under a millisecond), and a
# long sleep here would leave the lock free and this process's queue waiting.
_BUSY_PAUSE, _BUSY_PAUSE_MAX, _BUSY_ATTEMPTS = 0.0001, 0.002, 220
_MAX_GROUP = 512  # writes in one transaction at most (a transaction this size is still milliseconds)

_Queued = tuple[Callable[[FlowRuns], Any], "asyncio.Future[Any]"]


def _transaction(db: Database, work: Callable[[FlowRuns], T]) -> T:
    with FlowRuns.journal(db) as runs:
        return work(runs)


def _group_transaction(db: Database, works: list[Callable[[FlowRuns], Any]]) -> list[tuple[bool, Any]]:
    """``works`` in one transaction on a pooled connection (a thread's group commit), each in a
    savepoint; when the commit itself fails, every one of them has failed."""
    if len(works) == 1:
        return _each_in_its_transaction(db, works)
    try:
        with FlowRuns.journal(db) as runs:
            outcomes: list[tuple[bool, Any]] = []
            for work in works:
                try:
                    with runs.session.begin_nested():
                        outcomes.append((True, work(runs)))
                except Exception as exc:
                    outcomes.append((False, FlowRuns.translated(exc)))
        return outcomes
    except Exception as exc:
        return [(False, exc)] * len(works)


def _each_in_its_transaction(db: Database, works: list[Callable[[FlowRuns], Any]]) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    for work in works:
        try:
            outcomes.append((True, _transaction(db, work)))
        except Exception as exc:
            outcomes.append((False, exc))
    return outcomes


class JournalWriter:
    """Where the journals of the runs advanced in one process commit.

    By default writes run in a worker thread (PostgreSQL: a network round trip must not hold
    the event loop), grouped too: the writes queued while one transaction is under way share the
    next one, each in a savepoint. With ``direct=True`` on SQLite (the serving process's writer) writes
    are **group commits** on the event loop through the journal's own connection: a write is
    queued, and one drain task commits everything queued meanwhile — the writes of every run
    that reached a commit point in the same turn of the loop — in ONE transaction, each write
    in a savepoint of its own (one that fails is undone alone and raises to its caller only).
    Every caller returns only once its write is committed, so durability is what it was with a
    transaction per write; what changes is that concurrent runs share the cost of BEGIN/COMMIT
    and of SQLite's write lock, which another process (``tether serve --workers 2``) then
    takes a few times per batch instead of a few times per run.

    In WAL mode with ``synchronous=NORMAL`` a commit appends to the WAL without syncing. When
    another connection holds the write lock the loop is never blocked: the drain retries after
    short sleeps (writes queued meanwhile join the group), then hands the group to a thread that
    waits for the lock. WAL checkpoints, which do sync, run in a thread every ``CHECKPOINT_EVERY``
    writes: PASSIVE, or TRUNCATE once the WAL is past its size limit (steady readers keep
    PASSIVE checkpoints from ever letting SQLite reuse the file).
    """

    def __init__(self, db: Database, *, direct: bool = False) -> None:
        self.db = db
        self._direct_wanted = direct and db.dialect == "sqlite"
        self._direct: DirectConnection | None = None  # opened by the first write, on the loop's thread
        self._owner: int | None = None  # that thread
        self._checkpoint: asyncio.Future[None] | None = None
        self._queue: list[_Queued] = []
        self._drain: asyncio.Task[None] | None = None
        self._since_checkpoint = 0
        # Counters, for tests and benchmarks: writes stored, and the transactions that stored them.
        self.writes = 0
        self.transactions = 0
        self.busy = 0  # times the write lock was found taken (another process or connection held it)

    async def write(self, work: Callable[[FlowRuns], T]) -> T:
        """Run ``work`` in a committed transaction (perhaps shared with other writes); its result."""
        if self._direct_wanted and self._owner is None:
            self._owner = threading.get_ident()
            self._direct = FlowRuns.open_direct(self.db)
        if self._direct is not None and threading.get_ident() != self._owner:
            # The loop's writer, called from another thread: a transaction of its own.
            result = await asyncio.to_thread(_transaction, self.db, work)
            self.writes += 1
            self.transactions += 1
            return result
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        if self._drain is None:
            # A task, not a call now: it first runs after the loop's other ready callbacks, so the
            # runs that reach a commit point in this turn of the loop share the transaction.
            self._drain = asyncio.create_task(self._drain_queue(), name="tether-journal-writer")
        return cast(T, await future)

    async def _drain_queue(self) -> None:
        try:
            while self._queue:
                if self._direct is not None:
                    await self._commit_group()
                else:
                    await self._commit_group_in_thread()
        finally:
            self._drain = None

    async def _commit_group(self) -> None:
        direct = self._direct
        assert direct is not None
        pause = _BUSY_PAUSE
        for _attempt in range(_BUSY_ATTEMPTS):
            group = self._take()
            if not group:
                return
            try:
                outcomes = FlowRuns.attempt_each(direct, [work for work, _future in group])
            except Exception as exc:  # the commit itself failed: none of the group is stored
                _settle(group, [(False, exc)] * len(group))
                return
            if outcomes is not None:
                _settle(group, outcomes)
                self._stored(len(group))
                return
            self._queue[:0] = group  # the lock is taken: keep the group first in line
            self.busy += 1
            # Another connection holds the write lock for a moment (a session, another
            # process): wait for it here, without blocking the loop. Handing the commit to a
            # thread at once would make that thread the next holder, fighting the loop for
            # the GIL while it holds the lock, and every commit behind it would follow.
            await asyncio.sleep(pause)
            pause = min(pause * 2, _BUSY_PAUSE_MAX)
        # Still locked after that (a long transaction elsewhere): a thread waits for it.
        group = self._take()
        outcomes = await asyncio.to_thread(_each_in_its_transaction, self.db, [work for work, _f in group])
        _settle(group, outcomes)
        self.writes += len(group)
        self.transactions += len(group)

    async def _commit_group_in_thread(self) -> None:
        """PostgreSQL (or a SQLite writer off the loop): the group in one transaction in a thread;
        writes queued while it is under way form the next group."""
        group = self._take()
        if not group:
            return
        outcomes = await asyncio.to_thread(_group_transaction, self.db, [work for work, _f in group])
        _settle(group, outcomes)
        self.writes += len(group)
        self.transactions += 1

    def _take(self) -> list[_Queued]:
        """The next group: the queued writes whose callers still wait (a cancelled one is dropped)."""
        group = [(work, future) for work, future in self._queue[:_MAX_GROUP] if not future.done()]
        del self._queue[:_MAX_GROUP]
        return group

    def _stored(self, count: int) -> None:
        self.writes += count
        self.transactions += 1
        self._since_checkpoint += count
        if self._since_checkpoint >= CHECKPOINT_EVERY and self._checkpoint is None:
            self._since_checkpoint = 0
            self._checkpoint = asyncio.ensure_future(self._checkpoint_wal())

    async def _checkpoint_wal(self) -> None:
        try:
            await asyncio.to_thread(self.db.checkpoint_wal)
        except Exception:  # best effort: SQLite checkpoints on its own when another connection commits
            _log.warning("WAL checkpoint failed", exc_info=True)
        finally:
            self._checkpoint = None

    async def aclose(self) -> None:
        """Commit what is queued, wait for a checkpoint under way, close the connection."""
        if self._drain is not None:
            await asyncio.shield(self._drain)
        if self._checkpoint is not None:
            await self._checkpoint
        if self._direct is not None:
            self._direct.close()
            self._direct = None
            _log.info(
                "journal writer: %d writes in %d transactions, the write lock found taken %d times",
                self.writes,
                self.transactions,
                self.busy,
            )
        self._direct_wanted = False


def _settle(group: list[_Queued], outcomes: list[tuple[bool, Any]]) -> None:
    for (_work, future), (stored, value) in zip(group, outcomes, strict=True):
        if future.done():
            continue
        if stored:
            future.set_result(value)
        else:
            future.set_exception(value)
