"""A small pool of script worker processes, and the limits they run under.

Workers are spawned as fresh interpreters (``python -c``, exec'd: nothing of the server,
its memory, secrets, settings or open connections is inherited) on first use and reused;
one job at a time each. The wall-clock limit covers the whole script, the API calls it makes included
(as in Power Platform). The server side enforces it: a worker that has not answered a
grace period after its soft timer is killed and replaced.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Final

from tether.runtime.script._base import ScriptRequest, ScriptResponse
from tether.runtime.script._errors import BY_KIND, ScriptCrashed, ScriptError, ScriptTimeout

__all__ = ["DEFAULT_LIMITS", "ScriptLimits", "ScriptPool"]

_log = logging.getLogger("tether.script")
# How long past the soft timer a worker may take to report before it is killed.
_GRACE = 1.0
# How long a new worker may take to import and lock itself down (a busy machine is slow).
_STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class ScriptLimits:
    """Limits of custom code: wall-clock ``timeout`` (seconds), ``memory_bytes`` beyond what the
    worker uses at start, and ``max_size`` of the script in bytes."""

    timeout: float = 5.0
    memory_bytes: int = 256 * 1024 * 1024
    max_size: int = 1024 * 1024

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.memory_bytes <= 0 or self.max_size <= 0:
            raise ValueError("script limits must be positive")


DEFAULT_LIMITS: Final = ScriptLimits()
SendScript = Callable[[ScriptRequest], Awaitable[ScriptResponse]]


class _Worker:
    """One worker: a fresh interpreter (exec'd, never forked from the server) and a pipe to it.

    It gets a minimal environment (no ``TETHER_*`` settings, no secrets) and the server's
    import path, and imports nothing of the server's ``__main__``.
    """

    def __init__(self, memory_bytes: int) -> None:
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-P", "-c", _BOOT, str(theirs.fileno()), str(memory_bytes)]
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
        }
        self.process = subprocess.Popen(command, pass_fds=(theirs.fileno(),), env=environment, close_fds=True)
        theirs.close()
        self.conn = Connection(ours.detach())

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=5)
        self.conn.close()

    @property
    def exit_code(self) -> int | None:
        try:
            return self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return None


_BOOT = "import sys; from tether.runtime.script._worker import boot; boot(sys.argv[1:])"


class ScriptPool:
    """Run scripts in up to ``size`` worker processes; an async context manager (``aclose``)."""

    def __init__(self, size: int = 2, *, limits: ScriptLimits = DEFAULT_LIMITS) -> None:
        self.size = size
        self.limits = limits
        self._idle: list[_Worker] = []
        self._slots = asyncio.Semaphore(size)
        self._closed = False

    async def __aenter__(self) -> ScriptPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop every idle worker (busy ones stop when their job ends)."""
        self._closed = True
        workers, self._idle = self._idle, []
        for worker in workers:
            await asyncio.to_thread(worker.kill)

    async def run(
        self,
        source: str,
        request: ScriptRequest,
        send: SendScript,
        *,
        operation_id: str,
        correlation_id: str = "",
    ) -> ScriptResponse:
        """Run ``source``'s ``Script.execute`` for one call; raises a ``ScriptError`` on any failure."""
        if self._closed:
            raise ScriptCrashed("the script pool is closed")
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        async with self._slots:
            worker = self._idle.pop() if self._idle else await self._start()
            healthy = False
            try:
                job = ("run", digest, source, operation_id, correlation_id, request, self.limits.timeout)
                worker.conn.send(job)
                result = await self._serve(worker, send)
                healthy = True
                return result
            finally:
                if healthy and worker.alive() and not self._closed:
                    self._idle.append(worker)
                else:
                    await asyncio.to_thread(worker.kill)

    async def _start(self) -> _Worker:
        """A new worker, once it is ready: its start-up never counts against a script's time."""
        worker = await asyncio.to_thread(_Worker, self.limits.memory_bytes)
        try:
            ready = await asyncio.to_thread(_poll, worker.conn, _STARTUP_TIMEOUT)
            if not ready or worker.conn.recv() != ("ready",):
                raise ScriptCrashed("the script worker did not start")
        except (EOFError, OSError):
            await asyncio.to_thread(worker.kill)
            raise ScriptCrashed(_death(worker)) from None
        except ScriptCrashed:
            await asyncio.to_thread(worker.kill)
            raise
        return worker

    async def _serve(self, worker: _Worker, send: SendScript) -> ScriptResponse:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.timeout + _GRACE
        while True:
            message = await self._receive(worker, deadline - loop.time())
            kind = message[0]
            if kind == "send":
                try:
                    response = await send(message[1])
                except ScriptError:
                    raise
                except Exception as exc:  # the API call failed: the script sees it as an exception
                    worker.conn.send(("send-failed", f"{type(exc).__name__}: {exc}"))
                    continue
                worker.conn.send(("response", response))
            elif kind == "log":
                _log.log(message[1], "script: %s", message[2])
            elif kind == "done":
                return message[1]  # type: ignore[no-any-return]
            elif kind == "error":
                _, error_kind, text, line = message
                raise BY_KIND.get(error_kind, ScriptError)(text, line=line)

    async def _receive(self, worker: _Worker, timeout: float) -> tuple[Any, ...]:
        if timeout <= 0 or not await asyncio.to_thread(_poll, worker.conn, timeout):
            if worker.alive():
                raise ScriptTimeout(
                    f"the script did not finish within {self.limits.timeout:g} s; it was stopped"
                )
            raise ScriptCrashed(_death(worker))
        try:
            return worker.conn.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):
            raise ScriptCrashed(_death(worker)) from None


def _poll(conn: Connection, timeout: float) -> bool:
    try:
        return conn.poll(timeout)
    except (EOFError, OSError):
        return True  # recv will report the closed pipe


def _death(worker: _Worker) -> str:
    code = worker.exit_code
    return f"the script's worker process died (exit code {code}); it may have exceeded its memory limit"
