"""Several server processes on one port, each accepting on a listening socket of its own.

uvicorn's ``--workers`` binds one socket and shares it: every idle worker waits on it and the
one the kernel wakes first takes the connection. Keep-alive clients (load balancers, wrk,
connection pools) open few connections and keep them, so one worker ended up with most of them
(6,000 requests against 1,155 measured here) and two processes served less than one. With
``SO_REUSEPORT`` on Linux each worker gets its own socket on the same port, and the kernel
spreads new connections over them by a hash of the address pair — evenly, whoever is idle.

Supervision stays uvicorn's (:class:`uvicorn.supervisors.Multiprocess`: signals, health checks,
a crashed or hung worker replaced, SIGHUP/SIGTTIN/SIGTTOU); only where a worker's socket comes
from changes. The parent keeps each slot's socket, so a replacement worker takes over the
connections that queued while its predecessor was gone rather than the kernel dropping them.
Where ``SO_REUSEPORT`` does not spread connections (Windows, macOS) it falls back to one shared
socket, as uvicorn does.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from tether.errors import ConfigurationError

__all__ = ["REUSE_PORT", "check_port_free", "serve_workers"]

# BSD's SO_REUSEPORT (macOS) hands every connection to the last socket bound: no spreading.
REUSE_PORT = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")

logger = logging.getLogger("uvicorn.error")


def _family(host: str) -> socket.AddressFamily:
    """IPv6 for an address with a colon, IPv4 otherwise (as uvicorn decides)."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int) -> None:
    """Raise a clear :class:`ConfigurationError` if ``host:port`` cannot be listened on.

    Bound without ``SO_REUSEPORT``, so it also refuses a port another ``tether serve`` holds with
    ``SO_REUSEPORT`` (which our workers would otherwise join, splitting traffic between two servers).
    Done before the database is opened, so a taken port fails in a moment, not after migrations.
    """
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers are fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigurationError(
                    f"port {port} on {host} is already in use by another process: stop it, or start "
                    "Tether on another port with --port"
                ) from exc
            raise ConfigurationError(
                f"cannot listen on {host}:{port} ({exc.strerror}): check --host and --port"
            ) from exc


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT``, inheritable by a worker process."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"cannot listen on {host}:{port} ({exc.strerror}): stop what uses the port, "
            "or choose another --port"
        ) from exc
    sock.set_inheritable(True)
    return sock


class SocketPerWorker(Multiprocess):
    """uvicorn's supervisor with one ``SO_REUSEPORT`` socket per worker slot.

    A slot's socket outlives its worker: a replacement (after a crash, a hang or SIGHUP) serves
    the same socket, so the kernel's spreading and the connections already queued on it survive.
    Only the methods that start a worker are replaced; signals and the main loop are uvicorn's.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        self.slots = [_reuse_port_socket(config.host, config.port) for _ in range(config.workers)]
        super().__init__(config, sockets=[])
        self.failed_to_start = False

    def _start(self, slot: int) -> Process:
        process = Process(self.config, [self.slots[slot]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._start(slot) for slot in range(self.processes_num)]

    def keep_subprocess_alive(self) -> None:
        """As uvicorn's: replace a dead or hung worker, stop everything if one cannot start."""
        if self.should_exit.is_set():
            return
        for slot, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # The app or its configuration is broken: every restart would fail the same way.
                logger.error(f"Child process [{process.pid}] failed to start, stopping the parent process.")
                self.failed_to_start = True
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info(f"Child process [{process.pid}] died")
            self.processes[slot] = self._start(slot)

    def restart_all(self) -> None:
        """SIGHUP, as uvicorn's: each slot's replacement is ready before its old worker stops."""
        for slot, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._start(slot)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    logger.error(
                        f"New child process [{new.pid}] was not ready in time; "
                        f"keeping worker [{old.pid}] and aborting the restart."
                    )
                return
            old.terminate()
            old.join()
            self.processes[slot] = new

    def handle_ttin(self) -> None:
        logger.info("Received SIGTTIN, increasing the number of processes.")
        self.slots.append(_reuse_port_socket(self.config.host, self.config.port))
        self.processes_num += 1
        self.processes.append(self._start(len(self.slots) - 1))

    def handle_ttou(self) -> None:
        logger.info("Received SIGTTOU, decreasing number of processes.")
        if self.processes_num <= 1:
            logger.info("Already reached one process, cannot decrease the number of processes anymore.")
            return
        self.processes_num -= 1
        process = self.processes.pop()
        process.terminate()
        process.join()
        self.slots.pop().close()

    def close(self) -> None:
        """Close the parent's copies of the slots' sockets (after the workers stopped)."""
        for sock in self.slots:
            sock.close()


def serve_workers(app: str, *, host: str, port: int, workers: int, log_config: dict[str, Any] | None) -> None:
    """Serve the app factory ``app`` ("module:function") from ``workers`` processes until a signal.

    Returns once every worker has shut down gracefully (SIGINT/SIGTERM); raises
    :class:`ConfigurationError` when the port is taken or a worker fails to start.
    """
    check_port_free(host, port)
    config = uvicorn.Config(app, factory=True, host=host, port=port, workers=workers, log_config=log_config)
    if not REUSE_PORT:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    supervisor = SocketPerWorker(config)
    logger.info(
        "Uvicorn running on http://%s:%d: %d processes, a socket each (SO_REUSEPORT) (Press CTRL+C to quit)",
        host,
        port,
        workers,
    )
    try:
        supervisor.run()
    finally:
        supervisor.close()
    if supervisor.failed_to_start:
        raise ConfigurationError("a server process failed to start: its log above says why")
