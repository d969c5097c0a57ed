"""Run leases: at most one worker advances a run at a time, and a dead worker's lease frees itself.

A lease is a PostgreSQL session-level advisory lock keyed by the run id. PostgreSQL already does
the hard part: when a worker is SIGKILLed its socket closes, its backend ends, and the lock is
released at once, so the redelivered task on another worker takes the run over with no expiry to
wait for and no heartbeat column to keep.

All the leases of one process live on one connection of its own (:class:`LeaseBook`): taking or
giving one back is a single statement, and a process advancing many runs at once holds one
connection for them, not one per run out of the pool its runs' own queries need (which would
starve them). The statements go straight to the psycopg connection under SQLAlchemy's, as
server-side prepared statements: a lease is taken and given back for every run, and SQLAlchemy's
execution layer (compiling, parameter processing, result wrapping) cost more CPU than the round
trip itself. A process that lost that connection (network split, backend killed) lost every
lease on it; :meth:`RunLease.alive`, which the task checks on a timer, says so, and those runs
stop here and are taken over elsewhere.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import weakref
from types import TracebackType
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from tether.errors import ConfigurationError
from tether.store import Database, DatabaseUnavailable

__all__ = ["LEASE_NAMESPACE", "LeaseBook", "RunLease", "lease_key"]

#: Mixed into every key so that run leases do not collide with other users of advisory locks.
LEASE_NAMESPACE = "tether.run"
_TAKE = "SELECT pg_try_advisory_lock(%s::bigint)"
_GIVE_BACK = "SELECT pg_advisory_unlock(%s::bigint)"
_PING = "SELECT 1"
#: What a failed lease statement raises: psycopg's own errors (the raw connection), SQLAlchemy's.
_FAILURES = (psycopg.Error, SQLAlchemyError)
_log = logging.getLogger("tether.executors")


def lease_key(run_id: str) -> int:
    """The signed 64-bit advisory-lock key of a run (PostgreSQL's ``bigint``)."""
    digest = hashlib.sha256(f"{LEASE_NAMESPACE}\x00{run_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class LeaseBook:
    """The leases one process holds, on one PostgreSQL connection of its own; thread-safe.

    ``generation`` counts connections: a lease taken on a connection that has since died is gone,
    and giving it back must not give back the same key re-taken on the next connection.
    """

    _books: weakref.WeakKeyDictionary[Database, LeaseBook] = weakref.WeakKeyDictionary()
    _books_lock = threading.Lock()

    def __init__(self, database: Database) -> None:
        if database.dialect != "postgresql":
            raise ConfigurationError(
                "Distributed runs need PostgreSQL for their leases: set TETHER_DATABASE_URL=postgresql://... "
                f"(the database is {database.dialect})."
            )
        self.database = database
        self.generation = 0
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._driver: Any = None  # the psycopg connection under ``_connection``
        self._pid = os.getpid()
        self._held: set[int] = set()

    @classmethod
    def of(cls, database: Database) -> LeaseBook:
        """The book of ``database`` in this process (a forked child gets a new one)."""
        with cls._books_lock:
            book = cls._books.get(database)
            if book is None or book._pid != os.getpid():
                book = cls._books[database] = cls(database)
            return book

    def _connect(self) -> Connection:
        if self._connection is None:
            try:
                engine = self.database.engine
                connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                self._driver = connection.connection.driver_connection
            except DBAPIError as exc:
                raise DatabaseUnavailable("Could not reach the database to take a run lease.") from exc
            self._connection = connection
            self.generation += 1
        return self._connection

    def _scalar(self, statement: str, key: int | None = None) -> Any:
        """One lease statement on the driver's connection (prepared, one round trip); its value."""
        row = self._driver.execute(statement, (key,) if key is not None else None, prepare=True).fetchone()
        return row[0] if row is not None else None

    def _lost(self) -> None:
        """The connection failed: every lease on it is gone (PostgreSQL freed them with the backend)."""
        connection, self._connection, self._driver = self._connection, None, None
        self._held.clear()
        if connection is not None:
            _log.warning("lease connection lost: the runs advanced here are given up")
            connection.invalidate()
            connection.close()

    def acquire(self, key: int) -> int | None:
        """Take ``key`` if nobody (here or elsewhere) holds it: the connection's generation, or None."""
        with self._lock:
            if key in self._held:
                return None
            self._connect()
            try:
                taken = self._scalar(_TAKE, key)
            except _FAILURES as exc:
                self._lost()
                raise DatabaseUnavailable("Lost the database while taking a run lease.") from exc
            if not taken:
                return None
            self._held.add(key)
            return self.generation

    def alive(self, key: int, generation: int) -> bool:
        """Whether ``key``, taken in ``generation``, is still held: its connection still answers."""
        with self._lock:
            if generation != self.generation or key not in self._held or self._connection is None:
                return False
            try:
                self._scalar(_PING)
            except _FAILURES:
                self._lost()
                return False
            return True

    def release(self, key: int, generation: int) -> None:
        """Give ``key`` back (nothing to do when its connection, and so the lock, is already gone)."""
        with self._lock:
            if generation != self.generation or key not in self._held or self._connection is None:
                return
            self._held.discard(key)
            try:
                self._scalar(_GIVE_BACK, key)
            except _FAILURES:
                self._lost()

    def close(self) -> None:
        """Close the connection, which frees every lease still held (worker shutdown)."""
        with self._lock:
            connection, self._connection, self._driver = self._connection, None, None
            self._held.clear()
            if connection is not None:
                try:
                    connection.close()
                except SQLAlchemyError:
                    connection.invalidate()


class RunLease:
    """The exclusive right to advance one run, held until :meth:`release` (or process death).

        lease = RunLease(database, run_id)
        if lease.acquire():
            try: ...advance the run...
            finally: lease.release()

    The methods block on the database (one short statement each); async callers run them in a thread.
    """

    def __init__(self, database: Database, run_id: str) -> None:
        self.book = LeaseBook.of(database)
        self.run_id = run_id
        self.key = lease_key(run_id)
        self._generation: int | None = None

    @property
    def held(self) -> bool:
        return self._generation is not None

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; ``False`` when another worker is advancing the run."""
        if self._generation is None:
            self._generation = self.book.acquire(self.key)
        return self._generation is not None

    def alive(self) -> bool:
        """Whether the lease is still ours: its connection answers (a lost connection lost the lock)."""
        return self._generation is not None and self.book.alive(self.key, self._generation)

    def release(self) -> None:
        """Give the lease back; safe to call twice, and after the connection died."""
        generation, self._generation = self._generation, None
        if generation is not None:
            self.book.release(self.key, generation)

    def __enter__(self) -> RunLease:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
