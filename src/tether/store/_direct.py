"""The run journal's own SQLite connection: Core statements compiled once, run on the DBAPI cursor.

A flow run commits after every action, on the serving process's event loop. Through SQLAlchemy's
execution machinery one small ``UPDATE`` costs about 40 µs of CPU on the reference machine, and a
transaction on a pooled connection about 180 µs; on the ``sqlite3`` connection underneath, about
10. So the journal keeps one connection of its own (made by the engine, so with the store's
pragmas), compiles each statement once for SQLite, and binds values through the column types'
own processors, which keeps what is stored byte-for-byte what SQLAlchemy would store.

Two pragmas differ on this connection, because it is used from the event loop, which must never
wait: ``busy_timeout=0`` (when another connection holds the write lock, :meth:`attempt` says so
at once and the caller commits from a thread that may wait), and ``wal_autocheckpoint=0`` (a
checkpoint syncs the files to disk; the journal writer runs :meth:`Database.checkpoint_wal` from a
thread instead). The
connection is discarded on close, never returned to the pool with those pragmas.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.sql import ClauseElement

from tether.errors import Conflict
from tether.store._engine import Database, DatabaseUnavailable

__all__ = ["DirectConnection"]

T = TypeVar("T")

_PREPARED_SIZE = 64
_Binds = list[tuple[str, Any, Callable[[Any], Any] | None]]


class DirectConnection:
    """A SQLite connection that runs precompiled Core statements; see the module docstring.

    Not thread-safe: one thread (the event loop's) uses it. ``execute`` has the shape the store's
    repositories call (``execute(statement, params)``), so :class:`~tether.store.FlowRuns` runs on it.
    """

    def __init__(self, database: Database) -> None:
        if database.dialect != "sqlite":
            raise ValueError("DirectConnection is for SQLite databases")
        self.database = database
        self._fairy = database.engine.raw_connection()
        self._raw: sqlite3.Connection = self._fairy.driver_connection  # type: ignore[assignment]
        self._raw.execute("PRAGMA busy_timeout=0")
        self._raw.execute("PRAGMA wal_autocheckpoint=0")
        self._dialect = database.engine.dialect
        self._prepared: dict[int, tuple[ClauseElement, str, _Binds]] = {}
        self.commits = 0

    def _prepare(self, statement: ClauseElement) -> tuple[str, _Binds]:
        found = self._prepared.get(id(statement))
        if found is None or found[0] is not statement:
            compiled: Any = statement.compile(dialect=self._dialect)  # a SQLCompiler: binds, positiontup
            binds: _Binds = []
            for name in compiled.positiontup or ():
                bind = compiled.binds[name]
                process = bind.type.dialect_impl(self._dialect).bind_processor(self._dialect)
                binds.append((name, bind.effective_value, process))
            found = (statement, str(compiled), binds)
            if len(self._prepared) >= _PREPARED_SIZE:  # meant for a few module-level statements
                self._prepared.clear()
            self._prepared[id(statement)] = found
        return found[1], found[2]

    def execute(self, statement: ClauseElement, params: Mapping[str, Any]) -> sqlite3.Cursor:
        sql, binds = self._prepare(statement)
        values = []
        for name, default, process in binds:
            value = params.get(name, default)
            values.append(process(value) if process is not None and value is not None else value)
        return self._raw.execute(sql, values)

    def attempt(self, work: Callable[[DirectConnection], T]) -> tuple[bool, T | None]:
        """Run ``work`` in one transaction if the write lock is free now: ``(True, result)``; else
        ``(False, None)`` with nothing done. Raises Conflict or DatabaseUnavailable as sessions do."""
        try:
            self._raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return False, None
            raise DatabaseUnavailable("The database is unavailable; try again shortly.") from exc
        try:
            result = work(self)
            self._raw.execute("COMMIT")
        except BaseException as exc:
            if self._raw.in_transaction:
                self._raw.execute("ROLLBACK")
            translated = _translated(exc) if isinstance(exc, Exception) else exc
            if translated is not exc:
                raise translated from exc
            raise
        self.commits += 1
        return True, result

    def attempt_each(
        self, works: Sequence[Callable[[DirectConnection], Any]]
    ) -> list[tuple[bool, Any]] | None:
        """Run several ``works`` in ONE transaction if the write lock is free now (a group commit):
        each one's ``(True, result)`` or ``(False, exception)``, in order; None with nothing done when
        the lock is taken. Each work runs inside a savepoint, so one that fails (a clash, a bug) is
        undone alone and the others still commit. Raises DatabaseUnavailable when the commit itself
        fails (then none of them is stored)."""
        if len(works) == 1:  # no savepoint needed: the transaction is the work's own
            try:
                done, result = self.attempt(works[0])
            except Exception as exc:
                return [(False, exc)]
            return [(True, result)] if done else None
        try:
            self._raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return None
            raise DatabaseUnavailable("The database is unavailable; try again shortly.") from exc
        outcomes: list[tuple[bool, Any]] = []
        try:
            for work in works:
                self._raw.execute("SAVEPOINT journal_work")
                try:
                    result = work(self)
                except Exception as exc:
                    self._raw.execute("ROLLBACK TO journal_work")
                    self._raw.execute("RELEASE journal_work")
                    outcomes.append((False, _translated(exc)))
                else:
                    self._raw.execute("RELEASE journal_work")
                    outcomes.append((True, result))
            self._raw.execute("COMMIT")
        except BaseException as exc:
            if self._raw.in_transaction:
                self._raw.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise DatabaseUnavailable("The database is unavailable or busy; try again shortly.") from exc
            raise
        self.commits += 1
        return outcomes

    def close(self) -> None:
        """Discard the connection (it has this class's pragmas, so it must not go back to the pool)."""
        self._fairy.invalidate()


def _translated(exc: Exception) -> Exception:
    """The store's error for a failed statement, as sessions raise it (others unchanged)."""
    if isinstance(exc, sqlite3.IntegrityError):
        error: Exception = Conflict("The change clashes with data saved at the same time; try again.")
    elif isinstance(exc, sqlite3.OperationalError):
        error = DatabaseUnavailable("The database is unavailable or busy; try again shortly.")
    else:
        return exc
    error.__cause__ = exc
    return error
