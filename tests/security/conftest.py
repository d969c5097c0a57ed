"""Fixtures of the security tests: the services tests' principals and environment (for the tests that
call services), and, for the secret-leak tests, a real ``tether serve`` process (its own TETHER_HOME,
SQLite file, captured logs), a loopback echo API that answers with what it received, and the real
OAuth server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.oauth_server import fixtures as _oauth_fixtures
from tests.services.conftest import admin, make_user, team
from tether.api import free_port
from tether.store._run_segments import decoded

__all__ = ["admin", "make_user", "team"]

oauth_server = _oauth_fixtures.oauth_server
ADMIN_PASSWORD = "leak-test-admin-pw-4b1d"
START_TIMEOUT = 90.0


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with its method, path, query, headers and body as JSON (an API that
    echoes credentials back is the worst case for run history). ``/status/500`` fails."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        parts = urlsplit(self.path)
        payload = json.dumps(
            {
                "method": self.command,
                "path": parts.path,
                "query": dict(parse_qsl(parts.query)),
                "headers": dict(self.headers.items()),
                "body": body,
            }
        ).encode()
        self.send_response(500 if parts.path.startswith("/status/500") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:  # quiet: pytest captures stderr
        return


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, name="echo-api", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class Served:
    """A running ``tether serve``: its URL, home, log file, and every API answer seen through ``call``."""

    url: str
    home: Path
    log_path: Path
    http: httpx.Client
    answers: list[str] = field(default_factory=list)

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self.http.request(method, self.url + "/api/v1" + path, **kwargs)
        self.answers.append(response.text)
        return response

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def database_bytes(self) -> bytes:
        """The SQLite database, its WAL and shared-memory files, as they are on disk now, and the
        run records the journal keeps deflated, inflated: compression is not encryption, so a
        search for plaintext must see through it (store/_run_segments.py)."""
        files = [self.home / f"tether.db{suffix}" for suffix in ("", "-wal", "-shm")]
        raw = b"".join(f.read_bytes() for f in files if f.exists())
        return raw + _inflated_run_records(self.home / "tether.db")


def _inflated_run_records(path: Path) -> bytes:
    if not path.exists():
        return b""
    database = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = database.execute("SELECT body FROM run_segments UNION ALL SELECT data FROM run_blobs")
        return b"".join(decoded(row[0]) for row in rows)
    finally:
        database.close()


def _start(
    command: list[str], env: dict[str, str], log_path: Path, url: str
) -> subprocess.Popen[bytes] | None:
    """Start the server and wait until it answers; None when its port was taken meanwhile."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=10).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            output = log_path.read_text(errors="replace")
            if "address already in use" in output:
                return None  # another test on this machine took the free port first: try another
            raise AssertionError(f"tether serve did not start:\n{output}")
        if time.monotonic() > deadline:
            _stop(process)
            raise AssertionError(f"tether serve did not start:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.1)  # polling a condition with a deadline, not a sleep as synchronisation


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``tether serve`` in a subprocess, stdout and stderr (uvicorn's access log too) in a file."""
    home = tmp_path / "home"
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "TETHER_HOME": str(home),
        "TETHER_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "TETHER_DATABASE_URL": "",
        "TETHER_BROKER_URL": "",
    }
    process = None
    for _attempt in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [str(Path(sys.executable).parent / "tether"), "serve", "--port", str(port)]
        process = _start(command, env, log_path, url)
        if process is not None:
            break
    assert process is not None, "no free port for tether serve after 3 attempts"
    http = httpx.Client(timeout=60)
    try:
        created = http.post(f"{url}/api/v1/tokens", json={"name": "leaks"}, auth=("admin", ADMIN_PASSWORD))
        http.headers["Authorization"] = f"Bearer {created.json()['token']}"
        served = Served(url, home, log_path, http, [created.text])
        allowed = served.call("PUT", "/environments/default/settings", json={"network_allow": ["127.0.0.1"]})
        assert allowed.status_code == 200, allowed.text
        yield served
    finally:
        http.close()
        _stop(process)
