"""Engines and the unit of work.

SQLite is the embedded default, so its engine is tuned for a web server with concurrent
requests: WAL lets readers run beside one writer, ``busy_timeout`` makes a writer wait instead of
failing, and every transaction starts with ``BEGIN IMMEDIATE`` so two read-then-write transactions
queue up rather than one of them failing on a lock upgrade (which SQLite does not retry).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from tether._extras import require_extra
from tether.errors import ConfigurationError, Conflict, TetherError

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "Database",
    "DatabaseReadOnly",
    "DatabaseUnavailable",
    "create_engine_for",
]

SQLITE_BUSY_TIMEOUT_MS = 10_000
# SQLite writes the WAL from its start again only after a checkpoint has copied every frame and no
# reader still needs them. Under steady flow load PASSIVE checkpoints alone rarely see that moment,
# and the file grew without bound (273 MB after 3,000 runs here, kept after a clean stop). So:
# ``journal_size_limit`` cuts the file back to this size whenever it is reset, the journal writer
# resets it outright (TRUNCATE) once it is past this size, and so does a clean close.
WAL_SIZE_LIMIT = 16 * 1024 * 1024
# How long a TRUNCATE checkpoint may wait for readers to finish; writers wait behind it meanwhile.
_CHECKPOINT_BUSY_MS = 250

_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+psycopg"}


class DatabaseUnavailable(TetherError):
    """The database could not be reached or stayed locked; trying again later may work."""

    code = "database-unavailable"
    status = 503
    retryable = True


class DatabaseReadOnly(DatabaseUnavailable):
    """The database answers reads but refuses writes (file permissions, a read-only disk or
    mount, a PostgreSQL standby or ``default_transaction_read_only``)."""

    code = "database-read-only"
    retryable = False


# A write that changes nothing: the database must still open a write transaction for it, so a
# read-only one refuses it, while a writable one does no work and takes no row locks.
_WRITE_PROBE = text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0")
_READ_ONLY_HINTS = ("readonly", "read-only", "read only")


def _read_only(exc: BaseException) -> DatabaseReadOnly:
    return DatabaseReadOnly(
        "The database is read-only, so nothing can be saved: make the database file and its "
        "folder writable (or point TETHER_DATABASE_URL at a writable primary), then try again."
    )


def _is_read_only_error(exc: DBAPIError) -> bool:
    return any(hint in str(exc.orig).lower() for hint in _READ_ONLY_HINTS)


def create_engine_for(url: str | URL, **engine_options: Any) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL with Tether's connection settings.

    ``postgresql://`` (and ``postgres://``, as Heroku-style providers write it) is mapped to the
    psycopg 3 driver, because SQLAlchemy would otherwise look for psycopg2, which we do not ship.
    A SQLite file's folder is created, so a fresh ``TETHER_HOME`` just works.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"Cannot read the database URL {str(url)!r}: {exc}") from exc
    if parsed.drivername in _POSTGRES_DRIVERS:
        require_extra("psycopg", extra="postgresql", feature="A PostgreSQL database")
        return create_engine(
            parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True, **engine_options
        )
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed, **engine_options)
    raise ConfigurationError(
        f"Unsupported database {parsed.drivername!r}: use a 'sqlite:///path' or 'postgresql://...' URL."
    )


def _create_sqlite_engine(url: URL, **engine_options: Any) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        _create_private_file(Path(url.database).expanduser())
    engine = create_engine(url, **engine_options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (its legacy mode skips BEGIN
        # before SELECT and DDL); the "begin" hook below emits our own.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL is still durable across a killed process (a run's state survives a
        # crashed server, as flows require) and only a power cut can lose the last commits;
        # FULL would cost an fsync per commit, which caps flows at ~90 commits/s.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _create_private_file(path: Path) -> None:
    """Create the SQLite file (and a missing folder) readable by its owner only.

    The database holds encrypted credentials and run history; SQLite gives its ``-wal`` and
    ``-shm`` files the database file's mode, so a 0600 database keeps them 0600 too. A folder we
    create is 0700; an existing one is left alone (the operator chose its mode).
    """
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    with contextlib.suppress(OSError):  # a file owned by someone else: SQLite reports what matters
        for suffix in ("", "-wal", "-shm"):
            target = path.with_name(path.name + suffix)
            if target.exists() and target.stat().st_mode & 0o077:
                target.chmod(0o600)


_CHANGED_TABLES = "tether.changed_tables"


def _note_flushed_tables(session: Session, _context: Any, _instances: Any) -> None:
    changed = session.info.setdefault(_CHANGED_TABLES, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__tablename__", None)
        if table is not None:
            changed.add(table)


def _note_statement_table(state: ORMExecuteState) -> None:
    """Bulk ``update()``/``delete()``/``insert()`` statements change rows without flushing objects."""
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if table is not None and getattr(table, "name", None):
            state.session.info.setdefault(_CHANGED_TABLES, set()).add(table.name)


def _forget_tables(session: Session) -> None:
    session.info.pop(_CHANGED_TABLES, None)


class Database:
    """An engine plus a session factory: the handle the services are given.

    Use one per process and call :meth:`close` (or use it as a context manager) on shutdown.

        with Database("sqlite:///tether.db") as db, db.session() as s:
            s.add(...)
    """

    def __init__(self, url: str | URL, **engine_options: Any) -> None:
        self.engine = create_engine_for(url, **engine_options)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writes: Counter[str] = Counter()
        self._writes_lock = threading.Lock()
        event.listen(self._sessions, "before_flush", _note_flushed_tables)
        event.listen(self._sessions, "do_orm_execute", _note_statement_table)
        event.listen(self._sessions, "after_commit", self._count_committed_writes)
        event.listen(self._sessions, "after_rollback", _forget_tables)

    def writes(self, tables: Iterable[str]) -> int:
        """How many transactions committed through this object changed any of ``tables``.

        A read-through cache remembers this number with what it read and trusts its copy while
        the number is unchanged: changes made here show at once. Changes made by another
        process are not counted, so such caches also bound an entry's age.
        """
        with self._writes_lock:
            return sum(self._writes[table] for table in tables)

    def _count_committed_writes(self, session: Session) -> None:
        tables = session.info.pop(_CHANGED_TABLES, None)
        if tables:
            with self._writes_lock:
                self._writes.update(tables)

    @property
    def url(self) -> URL:
        return self.engine.url

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``: for the rare query that must differ."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits when the block ends normally, rolls back when it raises.

        Database errors are translated here so no SQLAlchemy exception leaves the store: a
        unique-constraint race becomes :class:`Conflict`, a lost or locked database becomes
        :class:`DatabaseUnavailable`.
        """
        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError as exc:
            raise Conflict("The change clashes with data saved at the same time; try again.") from exc
        except DBAPIError as exc:
            if _is_read_only_error(exc):
                raise _read_only(exc) from exc
            if isinstance(exc, OperationalError):
                raise DatabaseUnavailable("The database is unavailable or busy; try again shortly.") from exc
            raise

    def check_writable(self) -> None:
        """Raise ``DatabaseReadOnly`` unless a write would be accepted now (for ``/health``).

        A read-only SQLite file still answers ``SELECT 1``, so a health check that only reads
        says "ok" while every save fails; this probe asks for a write that changes nothing.
        """
        with self.session() as session:
            session.execute(_WRITE_PROBE)

    def wal_bytes(self) -> int:
        """The size of a SQLite database's WAL file (0 when there is none, or on PostgreSQL)."""
        path = self.engine.url.database
        if self.dialect != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
            return 0
        try:
            return Path(f"{path}-wal").stat().st_size
        except FileNotFoundError:
            return 0

    def checkpoint_wal(self, *, truncate: bool | None = None, busy_ms: int = _CHECKPOINT_BUSY_MS) -> bool:
        """Copy a SQLite WAL into the database file: whether every frame was copied.

        PASSIVE never waits. ``truncate`` also resets the WAL to zero bytes; it waits up to
        ``busy_ms`` for readers and writers, and says False when they kept it from finishing (the
        caller tries again later). ``None`` truncates once the WAL is past ``WAL_SIZE_LIMIT``.
        It syncs, so call it from a thread, never the event loop.
        """
        if self.dialect != "sqlite":
            return True
        if truncate is None:
            truncate = self.wal_bytes() > WAL_SIZE_LIMIT
        fairy = self.engine.raw_connection()
        try:
            raw: Any = fairy.driver_connection
            raw.execute(f"PRAGMA busy_timeout={busy_ms}")
            try:
                mode = "TRUNCATE" if truncate else "PASSIVE"
                busy, _log_frames, _copied = raw.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            finally:
                raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            return bool(busy == 0)
        finally:
            fairy.close()

    def close(self) -> None:
        """Close every pooled connection, leaving a SQLite WAL empty (a clean stop shrinks it)."""
        if self.dialect == "sqlite":
            # Best effort: the database is consistent with its WAL either way.
            with contextlib.suppress(Exception):
                self.checkpoint_wal(truncate=True, busy_ms=2_000)
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        # URL's repr hides the password.
        return f"Database({self.engine.url!r})"
