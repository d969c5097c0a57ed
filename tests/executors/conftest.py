"""Real Redis, a counting HTTP backend, and ``tether worker`` subprocesses for the distributed tests.

Redis runs as its own daemon in a temporary folder on a free port (TESTING.md); PostgreSQL is the
session server from ``tests/conftest.py``. Missing binaries skip these tests, except under CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis

from tests.conftest import PostgresServer, _free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _missing(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must run the distributed executor tests")
    pytest.skip(message)


class RedisServer:
    """A throw-away Redis 7 with no persistence, owned by this test process."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tether-redis-"))
        self.port = 0

    def start(self) -> None:
        for _attempt in range(5):
            self.port = _free_port()
            subprocess.run(
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "yes",
                    "--dir",
                    str(self.dir),
                    "--pidfile",
                    str(self.dir / "redis.pid"),
                    "--logfile",
                    str(self.dir / "redis.log"),
                ],
                check=True,
                capture_output=True,
            )
            if self._wait_ready():
                return
            self.stop(remove=False)
        log = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"Redis did not start: {log}")

    def _wait_ready(self) -> bool:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return True
            except redis.RedisError:
                time.sleep(0.05)
            finally:
                client.close()
        return False

    def stop(self, *, remove: bool = True) -> None:
        pidfile = self.dir / "redis.pid"
        if pidfile.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
            deadline = time.monotonic() + 5
            while pidfile.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A running Redis server, started on first use and stopped at session end."""
    if not os.path.exists(REDIS_SERVER):
        _missing("redis-server not found (apt-get install -y redis-server)")
    server = RedisServer()
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture
def pg(postgres_server: PostgresServer) -> PostgresServer:
    """The session PostgreSQL server (its fixture skips, or fails under CI, when it is not installed)."""
    return postgres_server


@dataclass
class CountingBackend:
    """An HTTP server that answers every POST with 200 and records (Idempotency-Key, action) pairs."""

    url: str
    calls: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0

    def snapshot(self) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.calls)


@pytest.fixture
def counting_backend() -> Iterator[CountingBackend]:
    backend = CountingBackend(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            if backend.delay:
                time.sleep(backend.delay)
            action = body.get("action", "?") if isinstance(body, dict) else "?"
            with backend.lock:
                backend.calls.append((self.headers.get("Idempotency-Key", ""), str(action)))
            answer = json.dumps({"ok": True, "action": action}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a SIGKILLed worker resets its connections: expected here, not worth a traceback

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    backend.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield backend
    server.shutdown()
    server.server_close()


@dataclass
class WorkerProcess:
    """One ``tether worker`` subprocess (its own session, so a kill takes its whole process group)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the worker and every process it started, as a crashed machine would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class WorkerPool:
    """Starts ``tether worker`` processes against one broker and database; stops them all at the end."""

    broker_url: str
    database_url: str
    home: Path
    visibility_timeout: float
    workers: list[WorkerProcess] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        """The environment of a Tether process (worker or server) of this deployment."""
        return {
            **os.environ,
            "TETHER_HOME": str(self.home),
            "TETHER_BROKER_URL": self.broker_url,
            "TETHER_DATABASE_URL": self.database_url,
            "TETHER_BROKER_VISIBILITY_TIMEOUT": str(self.visibility_timeout),
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, name: str, *, pool: str = "solo", concurrency: int = 1) -> WorkerProcess:
        env = self.environment()
        log = self.home / f"{name}.log"
        command = [
            sys.executable,
            "-c",
            "from tether.cli import main; main()",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--name",
            f"{name}@%h",
            "--loglevel",
            "WARNING",
        ]
        with log.open("wb") as handle:
            process = subprocess.Popen(
                command,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        worker = WorkerProcess(name, process, log)
        self.workers.append(worker)
        return worker

    def alive(self) -> list[WorkerProcess]:
        return [w for w in self.workers if w.process.poll() is None]

    def logs(self) -> str:
        return "\n".join(
            f"--- {w.name} (exit {w.process.poll()})\n{w.output()[-4000:]}" for w in self.workers
        )

    def stop(self) -> None:
        alive = self.alive()
        for worker in alive:  # all at once: each warm shutdown takes a moment
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.process.pid, signal.SIGTERM)
        for worker in alive:
            worker.stop()


@pytest.fixture
def worker_pool(redis_server: RedisServer, pg: PostgresServer, tmp_path: Path) -> Iterator[WorkerPool]:
    """A fresh broker database and PostgreSQL database per test; workers are started by the test."""
    name = f"w_{uuid.uuid4().hex[:12]}"
    pg.execute(f"CREATE DATABASE {name}")
    client = redis.Redis.from_url(redis_server.url())
    client.flushdb()  # tests of one process run one after the other; each starts with an empty broker
    client.close()
    pool = WorkerPool(
        broker_url=redis_server.url(), database_url=pg.url(name), home=tmp_path, visibility_timeout=2.0
    )
    yield pool
    pool.stop()
    pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
