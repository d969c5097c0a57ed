"""Real upstream services for the runtime tests: etcd, httpbin, and a capturing server.

Each starts once per test process (so once per xdist worker), on a free 127.0.0.1 port,
in a temporary folder, and is stopped at session end. Missing binaries skip the tests with
the install command (and fail under CI, which must run them).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._paths import SPECS, need
from tether.definition import Api, compile_api, read_document
from tether.runtime import NetworkPolicy

LOOPBACK = NetworkPolicy(allow_loopback=True)
START_TIMEOUT = 30.0


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``pytest.mark.anyio``) run on asyncio, as the server does."""
    return "asyncio"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(what: str, install: str) -> None:
    message = f"{what} not found ({install})"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must run these tests")
    pytest.skip(message)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    raise RuntimeError(f"{url} did not come up:\n{log.read_text(errors='replace')[-2000:]}")


@dataclass
class Service:
    """A started server: its base URL, process and folder."""

    url: str
    process: subprocess.Popen[bytes]
    folder: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _start(name: str, command: list[str], url: str, health: str, folder: Path) -> Service:
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    try:
        _wait_until_up(health, process, log)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Service(url=url, process=process, folder=folder)


@pytest.fixture(scope="session")
def etcd() -> Iterator[Service]:
    """A one-member etcd 3.4 cluster (Debian ``etcd-server``), JSON gateway at ``url``."""
    binary = shutil.which("etcd")
    if binary is None:
        _missing("etcd", "apt-get install -y etcd-server")
    folder = Path(tempfile.mkdtemp(prefix="tether-etcd-"))
    client, peer = free_port(), free_port()
    command = [
        str(binary), "--name", "n1", "--data-dir", str(folder / "data"),
        "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
        "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-cluster", f"n1=http://127.0.0.1:{peer}", "--log-level", "error",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{client}"
    service = _start("etcd", command, url, f"{url}/version", folder)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def httpbin() -> Iterator[Service]:
    """httpbin (PyPI) under gunicorn, threaded so slow endpoints don't block the others."""
    try:
        import gunicorn  # noqa: F401
        import httpbin as _httpbin  # noqa: F401
    except ImportError:
        _missing("httpbin/gunicorn", "pip install -e '.[dev]'")
    folder = Path(tempfile.mkdtemp(prefix="tether-httpbin-"))
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "httpbin:app", "-b", f"127.0.0.1:{port}",
        "-k", "gthread", "--threads", "8", "--log-level", "warning",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    service = _start("httpbin", command, url, f"{url}/get", folder)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def etcd_api() -> Api:
    path = need(SPECS / "etcd" / "rpc.swagger.json")
    return compile_api(read_document(path).data, name="etcd")


@pytest.fixture(scope="session")
def httpbin_spec() -> dict[str, Any]:
    """The raw httpbin spec (tests add parameters httpbin accepts but its spec does not declare)."""
    return read_document(need(SPECS / "httpbin" / "spec.json")).data


@dataclass
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class CaptureServer:
    """Records every request and answers ``200 {}`` (the corpus dry run's upstream)."""

    url: str
    requests: list[Captured] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture(scope="session")
def capture_server() -> Iterator[CaptureServer]:
    server = CaptureServer(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go in separate writes: without this, Nagle + delayed ACK add 40 ms a call.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            with server.lock:
                server.requests.append(Captured(self.command, self.path, dict(self.headers.items()), body))
            payload = json.dumps({}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_TRACE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()
