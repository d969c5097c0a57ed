"""Run leases: at most one worker advances a run at a time, and a dead worker's lease frees itself.

A lease is a PostgreSQL session-level advisory lock keyed by the run id, held on a connection of
its own for as long as the run is being advanced. PostgreSQL already does the hard part: when a
worker is SIGKILLed its socket closes, its backend ends, and the lock is released at once, so the
redelivered task on another worker takes the run over with no expiry to wait for and no heartbeat
column to keep. A worker that lost its connection (network split) finds out through :meth:`alive`,
which the task checks on a timer, and stops advancing the run.
"""

from __future__ import annotations

import hashlib
import logging
from types import TracebackType

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from tether.errors import ConfigurationError
from tether.store import Database, DatabaseUnavailable

__all__ = ["LEASE_NAMESPACE", "RunLease", "lease_key"]

#: Mixed into every key so that run leases do not collide with other users of advisory locks.
LEASE_NAMESPACE = "tether.run"
_log = logging.getLogger("tether.executors")


def lease_key(run_id: str) -> int:
    """The signed 64-bit advisory-lock key of a run (PostgreSQL's ``bigint``)."""
    digest = hashlib.sha256(f"{LEASE_NAMESPACE}\x00{run_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class RunLease:
    """The exclusive right to advance one run, held until :meth:`release` (or process death).

        lease = RunLease(database, run_id)
        if lease.acquire():
            try: ...advance the run...
            finally: lease.release()

    The methods block on the database; async callers run them in a thread.
    """

    def __init__(self, database: Database, run_id: str) -> None:
        if database.dialect != "postgresql":
            raise ConfigurationError(
                "Distributed runs need PostgreSQL for their leases: set TETHER_DATABASE_URL=postgresql://... "
                f"(the database is {database.dialect})."
            )
        self.database = database
        self.run_id = run_id
        self.key = lease_key(run_id)
        self._connection: Connection | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; ``False`` when another worker is advancing the run."""
        if self._connection is not None:
            return True
        try:
            connection = self.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            except BaseException:
                connection.close()
                raise
        except DBAPIError as exc:
            raise DatabaseUnavailable("Could not reach the database to take a run lease.") from exc
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def alive(self) -> bool:
        """Whether the lease is still ours: its connection answers (a lost connection lost the lock)."""
        if self._connection is None:
            return False
        try:
            held = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND granted AND classid = ((:k >> 32) & 4294967295)::oid "
                    "AND objid = (:k & 4294967295)::oid AND objsubid = 1"
                ),
                {"k": self.key},
            ).scalar()
        except SQLAlchemyError:
            return False
        return bool(held)

    def release(self) -> None:
        """Give the lease back; safe to call twice, and after the connection died."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if not connection.invalidated:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except SQLAlchemyError:
            # The connection is gone, and with it the lock; throw it away rather than pool it.
            _log.warning("run %s: lease connection lost before release", self.run_id)
            connection.invalidate()
        finally:
            connection.close()

    def __enter__(self) -> RunLease:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
