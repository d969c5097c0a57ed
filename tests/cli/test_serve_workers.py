"""``tether serve --workers 2`` through the real command: each worker has a socket of its own.

With one shared listening socket, the worker the kernel woke first took most keep-alive
connections (6,000 requests against 1,155 in session 5). Here each worker listens on its own
``SO_REUSEPORT`` socket and the kernel hashes connections over them: the test counts, from
/proc, which worker process holds each of its connections. It also kills a worker (the
supervisor must replace it on the same socket, so connections that queued meanwhile are served)
and stops the server with SIGTERM (every worker shuts down, lifespan included: the WAL is empty);
a token made through one worker works in the other (they share the database).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tether.api import free_port
from tether.api._workers import REUSE_PORT

pytestmark = pytest.mark.skipif(not REUSE_PORT, reason="SO_REUSEPORT spreads connections on Linux only")

TETHER = str(Path(sys.executable).parent / "tether")
CONNECTIONS = 32
START_DEADLINE_S = 180.0  # two processes starting on a possibly saturated machine
PASSWORD = "workers-pass-2"
HEALTH = b"GET /api/v1/health HTTP/1.1\r\nHost: test\r\n\r\n"


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    home: Path

    def children(self) -> set[int]:
        pid = self.process.pid
        try:
            return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
        except FileNotFoundError:
            return set()  # the server has exited

    def workers(self) -> set[int]:
        """The supervisor's worker processes, from /proc (not multiprocessing's resource tracker)."""
        return {pid for pid in self.children() if b"spawn_main" in _cmdline(pid)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""  # exited meanwhile


def _wait(condition: object, what: str, deadline_s: float) -> None:
    """Poll ``condition()`` until it is true or the deadline passes (no sleep as synchronisation)."""
    deadline = time.monotonic() + deadline_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("workers") / "home"
    port = free_port()
    env = {**os.environ, "TETHER_HOME": str(home), "TETHER_ADMIN_PASSWORD": PASSWORD}
    command = [TETHER, "serve", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    running = Server(process, port, home)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(lambda: _healthy(base) or process.poll() is not None, "the server to start", START_DEADLINE_S)
        assert process.poll() is None, "tether serve exited during start-up"
        # Healthy means one worker serves; the other may still be starting (its socket bound, not
        # listening, so the kernel sends it nothing yet). Both listening is the state under test.
        _wait(lambda: _listening(port) == 2, "both workers to listen", START_DEADLINE_S)
        _wait(lambda: len(running.workers()) == 2, "two worker processes", 30)
        yield running
    finally:
        children = running.children()
        if process.poll() is None:
            process.terminate()
        try:
            process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        for pid in children:  # only if the supervisor could not stop them itself
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)


def _tcp_table() -> list[list[str]]:
    return [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def _listening(port: int) -> int:
    """How many sockets listen on ``port`` (state 0A in /proc/net/tcp)."""
    return sum(1 for fields in _tcp_table() if _port(fields[1]) == port and fields[3] == "0A")


def _open_answered(port: int, count: int) -> list[socket.socket]:
    """``count`` keep-alive connections, each with one request answered (so a worker accepted it)."""
    connections = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=120)
        connection.sendall(HEALTH)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            assert chunk, "the server closed a keep-alive connection"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        connections.append(connection)
    return connections


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _holders(port: int, clients: list[socket.socket], workers: set[int]) -> dict[int, int]:
    """How many of ``clients``' connections each worker holds: server-side sockets in
    /proc/net/tcp (local port ``port``, remote port a client's) matched to the workers' fds."""
    client_ports = {connection.getsockname()[1] for connection in clients}
    inode_of_client: dict[str, int] = {}
    for fields in _tcp_table():
        if _port(fields[1]) == port and _port(fields[2]) in client_ports:
            inode_of_client[fields[9]] = _port(fields[2])
    return {pid: len(_socket_inodes(pid) & inode_of_client.keys()) for pid in workers}


def test_keep_alive_connections_are_spread_over_both_workers(server: Server) -> None:
    clients = _open_answered(server.port, CONNECTIONS)
    try:
        held = _holders(server.port, clients, server.workers())
    finally:
        for connection in clients:
            connection.close()
    assert sum(held.values()) == CONNECTIONS, held
    # A hash over 32 connections: fewer than 4 on either worker has odds of about 1 in 10^6.
    assert min(held.values()) >= 4, f"connections per worker: {held}"


def test_a_killed_worker_is_replaced_on_its_socket(server: Server) -> None:
    before = server.workers()
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    # Connections made right away: those the kernel hashes to the dead worker's socket wait in its
    # queue (the supervisor still holds the socket) and are served by the replacement.
    clients = _open_answered(server.port, CONNECTIONS)
    try:
        workers = server.workers()
        assert victim not in workers and len(workers) == 2, (before, workers)
        held = _holders(server.port, clients, workers)
    finally:
        for connection in clients:
            connection.close()
    replacement = (workers - before).pop()
    assert held[replacement] >= 4, f"connections per worker: {held}"


def test_a_token_made_through_one_worker_works_in_every_one(server: Server) -> None:
    base = f"http://127.0.0.1:{server.port}"
    created = httpx.post(f"{base}/api/v1/tokens", json={"name": "w"}, auth=("admin", PASSWORD), timeout=60)
    headers = {"Authorization": f"Bearer {created.json()['token']}"}
    for _ in range(20):  # new connections, spread over both processes by the kernel
        assert httpx.get(f"{base}/api/v1/me", headers=headers, timeout=60).json()["username"] == "admin"


def test_sigterm_stops_every_worker_after_a_graceful_shutdown(server: Server) -> None:
    workers = server.workers()
    server.process.send_signal(signal.SIGTERM)
    output, _ = server.process.communicate(timeout=120)
    assert server.process.returncode == 0, output[-3000:]
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived the server"
    assert output.count("Application shutdown complete.") >= 2, output[-3000:]
    wal = server.home / "tether.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # lifespan shutdown truncated it
    assert "Traceback" not in output
    assert "2 processes" in output
    assert len({line for line in output.splitlines() if "Started server process" in line}) >= 2


def test_a_taken_port_is_a_clear_error_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "TETHER_HOME": str(tmp_path / "home"), "TETHER_ADMIN_PASSWORD": "workers-pass-3"}
        command = [TETHER, "serve", "--port", str(port), "--workers", "2"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "home" / "tether.db").exists()  # refused before opening the database
