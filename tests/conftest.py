"""Shared fixtures: a real PostgreSQL 15 server and fresh databases on both backends.

The server starts lazily, once per test process (so once per pytest-xdist worker), in a
temporary folder on a free 127.0.0.1 port, and is stopped when the session ends. Each test gets
its own empty database. A migrated one (``migrated_url``, ``db``) is, for SQLite, a copy of a file
migrated once per session and, for PostgreSQL, one database per process migrated once and
truncated after each test; so a test costs milliseconds, not a migration. ``database_url`` gives a
brand-new database with no tables at all (``CREATE DATABASE``), for the migration tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tether.config import Settings, load_settings
from tether.store import Base, Database, migrate

# The real OAuth 2.0 authorization server (django-oauth-toolkit), started once per test session.
pytest_plugins = ["tests.oauth_server.fixtures"]

PG_BIN = Path(os.environ.get("TETHER_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; CI runs as root, developers usually do not.
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *args]
    return args


class PostgresServer:
    """A throw-away PostgreSQL cluster owned by this test process."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tether-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, PG_USER, PG_USER)
        self.data = self.dir / "data"
        self.port = 0

    def start(self) -> None:
        subprocess.run(
            _as_postgres(
                [
                    *[str(PG_BIN / "initdb"), "-D", str(self.data), "-U", PG_USER],
                    *["--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
                ]
            ),
            check=True,
            capture_output=True,
        )
        # A free port can be taken between probing and binding (xdist workers start together).
        for _attempt in range(5):
            self.port = _free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
            options += " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log")]
            result = subprocess.run(
                _as_postgres([*pg_ctl, "-o", options, "-w", "start"]),
                capture_output=True,
                text=True,
            )
            if result.returncode == 0:
                return
        log = (self.dir / "log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL did not start:\n{result.stderr}\n{log}")

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL 15 server, started on first use and stopped at session end."""
    if not (PG_BIN / "initdb").exists():
        message = f"PostgreSQL 15 binaries not found in {PG_BIN} (apt-get install -y postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run the PostgreSQL tests")
        pytest.skip(message)
    server = PostgresServer()
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _postgres_migrated(postgres_server: PostgresServer) -> str:
    """One database per test process, migrated once and emptied after every test that used it.

    TRUNCATE takes a few milliseconds where CREATE DATABASE takes ~170 ms.
    """
    name = "tether_test"
    postgres_server.execute(f"CREATE DATABASE {name}")
    database = Database(postgres_server.url(name))
    migrate(database)
    database.close()
    return postgres_server.url(name)


def _truncate_all(url: str) -> None:
    import psycopg

    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with psycopg.connect(url, autocommit=True) as connection:
        # A test that leaks an open transaction would make TRUNCATE wait forever; fail instead.
        connection.execute("SET lock_timeout = '10s'")
        connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    database = Database(f"sqlite:///{path}")
    migrate(database)
    database.close()  # disposing checkpoints the WAL, so copying the main file is enough
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: tests using it (or the fixtures below) run on both."""
    return str(request.param)


def _postgres_database(server: PostgresServer) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    server.execute(f"CREATE DATABASE {name}")
    yield server.url(name)
    server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, EMPTY database (no tables) on the current backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'tether.db'}"
        return
    yield from _postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def migrated_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database already at the latest schema, on the current backend."""
    if backend == "sqlite":
        path = tmp_path / "tether.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_postgres_migrated")
    yield url
    _truncate_all(url)


@pytest.fixture
def db(migrated_url: str) -> Iterator[Database]:
    """A :class:`Database` at the latest schema, closed after the test."""
    database = Database(migrated_url)
    yield database
    database.close()


@pytest.fixture
def settings(tmp_path: Path, migrated_url: str) -> Settings:
    """Settings pointing at the test's home folder and database (no admin password set)."""
    return load_settings(home=tmp_path / "home", database_url=migrated_url)
