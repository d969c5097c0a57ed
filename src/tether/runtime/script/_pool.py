"""Script worker processes, kept per isolation key, and the limits they run under.

Each worker is a fresh interpreter inside the bubblewrap sandbox (``_jail``), started on
first use. A worker serves one job at a time and is reused only for the same isolation key
(the caller's: a connector and its owners), so no script can leave something behind for
another owner's calls; idle workers are retired after ``limits.idle_seconds``. How many
scripts run at once is capped per owner (``limits.per_owner``) and in all (``size``); a call
over the cap waits up to ``limits.queue_timeout`` and then gets :class:`ScriptBusy`.

The wall-clock limit covers the whole script, the API calls it makes included (as in Power
Platform). The server enforces it: a worker that has not answered a grace period after its
soft timer is killed. Everything a worker says is checked against the protocol
(``_protocol``); a worker that breaks it is killed and the call gets ``ScriptProtocolError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from tether.runtime.script._base import ScriptRequest, ScriptResponse
from tether.runtime.script._errors import (
    BY_KIND,
    ScriptBusy,
    ScriptCrashed,
    ScriptError,
    ScriptProtocolError,
    ScriptSandboxUnavailable,
    ScriptTimeout,
    ScriptTooLarge,
)
from tether.runtime.script._jail import INSTALL_HINT, Jail
from tether.runtime.script._protocol import (
    HEADER,
    ProtocolViolation,
    decode_frame,
    encode_frame,
    message_from_request,
    message_from_response,
    parse_from_worker,
)

__all__ = ["DEFAULT_LIMITS", "ScriptLimits", "ScriptPool"]

_log = logging.getLogger("tether.script")
# How long past the soft timer a worker may take to report before it is killed.
_GRACE = 1.0
# How long a new worker may take to start and lock itself down (a busy machine is slow).
_STARTUP_TIMEOUT = 60.0
# Log lines of one call that reach the server's log (a script cannot flood it).
_MAX_LOG_LINES = 100


@dataclass(frozen=True)
class ScriptLimits:
    """Limits of custom code: wall-clock ``timeout`` (seconds), ``memory_bytes`` beyond what the
    worker uses at start, ``max_size`` of the script in bytes, ``max_message`` bytes of one
    message between a worker and the server, ``per_owner`` scripts running at once for one
    owner, ``queue_timeout`` seconds a call waits for a free slot, ``idle_seconds`` before an
    idle worker is retired, and ``cpu_seconds`` of CPU a worker may use in its life (default:
    the larger of 120 s and four timeouts; the worker retires itself at half)."""

    timeout: float = 5.0
    memory_bytes: int = 256 * 1024 * 1024
    max_size: int = 1024 * 1024
    max_message: int = 32 * 1024 * 1024
    per_owner: int = 2
    queue_timeout: float = 10.0
    idle_seconds: float = 60.0
    cpu_seconds: int | None = None

    def __post_init__(self) -> None:
        numbers = (self.timeout, self.memory_bytes, self.max_size, self.max_message, self.per_owner)
        if min(numbers) <= 0 or self.queue_timeout < 0 or self.idle_seconds < 0:
            raise ValueError("script limits must be positive")
        if self.cpu_seconds is not None and self.cpu_seconds < 2 * self.timeout:
            raise ValueError("cpu_seconds must be at least twice the timeout")

    @property
    def worker_cpu_seconds(self) -> int:
        """The CPU budget of one worker's life (``RLIMIT_CPU``)."""
        return self.cpu_seconds if self.cpu_seconds is not None else max(120, math.ceil(4 * self.timeout))


DEFAULT_LIMITS: Final = ScriptLimits()
SendScript = Callable[[ScriptRequest], Awaitable[ScriptResponse]]


class _Worker:
    """One sandboxed worker process and our end of its socket pair (non-blocking)."""

    def __init__(self, jail: Jail, key: str, limits: ScriptLimits) -> None:
        ours, theirs = socket.socketpair()
        command = jail.command(
            theirs.fileno(), limits.memory_bytes, limits.worker_cpu_seconds, limits.max_message
        )
        try:
            self.process = subprocess.Popen(
                command,
                pass_fds=(theirs.fileno(),),
                env={},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                close_fds=True,
            )
        finally:
            theirs.close()
        ours.setblocking(False)
        self.sock = ours
        self.key = key
        self.idle_since = time.monotonic()

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the sandbox (its PID namespace dies with it) and wait for it."""
        if self.alive():
            self.process.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _log.warning("script worker %s did not exit after SIGKILL", self.process.pid)
        self.sock.close()
        if self.process.stderr is not None:
            self.process.stderr.close()

    def stderr_text(self) -> str:
        """What the sandbox wrote before it was ready (bwrap's own errors), without blocking."""
        stream = self.process.stderr
        if stream is None:
            return ""
        try:
            os.set_blocking(stream.fileno(), False)
            data = stream.read(4096) or b""
        except (OSError, ValueError):
            return ""
        return data.decode("utf-8", errors="replace").strip()

    async def send(self, message: dict[str, Any], max_frame: int) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, encode_frame(message, max_frame))

    async def receive(self, max_frame: int) -> tuple[Any, ...]:
        """The next message, checked; ``EOFError`` when the worker is gone, ``ProtocolViolation``."""
        (length,) = HEADER.unpack(await self._read(HEADER.size))
        if length > max_frame:
            raise ProtocolViolation(f"a frame of {length:,} bytes is over the {max_frame:,}-byte limit")
        return parse_from_worker(decode_frame(await self._read(length)))

    async def _read(self, size: int) -> bytes:
        loop = asyncio.get_running_loop()
        data = bytearray()
        while len(data) < size:
            chunk = await loop.sock_recv(self.sock, min(size - len(data), 1 << 20))
            if not chunk:
                raise EOFError
            data += chunk
        return bytes(data)


class _Slots:
    """How many scripts run: at most ``total`` in all and ``per_owner`` for one owner.

    Waiters are futures of whichever event loop runs the call (a pool may serve several
    loops one after another, as tests do); every release wakes them all to look again.
    """

    def __init__(self, total: int, per_owner: int) -> None:
        self.total = total
        self.per_owner = per_owner
        self.running: dict[str, int] = {}
        self._waiters: list[asyncio.Future[None]] = []

    def _free(self, owner: str) -> bool:
        return sum(self.running.values()) < self.total and self.running.get(owner, 0) < self.per_owner

    @asynccontextmanager
    async def slot(self, owner: str, wait: float) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not self._free(owner):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ScriptBusy(self._busy_message(owner, wait))
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                pass
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self.running[owner] = self.running.get(owner, 0) + 1
        try:
            yield
        finally:
            self.running[owner] -= 1
            if not self.running[owner]:
                del self.running[owner]
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done() and not waiter.get_loop().is_closed():
                    waiter.get_loop().call_soon_threadsafe(_wake, waiter)

    def _busy_message(self, owner: str, wait: float) -> str:
        if self.running.get(owner, 0) >= self.per_owner:
            return (
                f"{self.per_owner} scripts of this connector's owner were still running after {wait:g} s "
                "(the per-owner limit); try again when they finish"
            )
        return f"all {self.total} script slots were still busy after {wait:g} s; try again shortly"


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ScriptPool:
    """Run scripts in sandboxed workers, at most ``size`` at once; an async context manager (``aclose``)."""

    def __init__(self, size: int = 4, *, limits: ScriptLimits = DEFAULT_LIMITS) -> None:
        self.size = size
        self.limits = limits
        self._idle: list[_Worker] = []
        self._slots = _Slots(size, limits.per_owner)
        self._jail: Jail | None = None
        self._closed = False
        self.started = 0  # how many workers were started (tests and benches read it)

    @property
    def running(self) -> int:
        """How many scripts are running now (all owners)."""
        return sum(self._slots.running.values())

    async def __aenter__(self) -> ScriptPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop every idle worker (busy ones stop when their job ends) and remove the staging files."""
        self._closed = True
        workers, self._idle = self._idle, []
        for worker in workers:
            await asyncio.to_thread(worker.kill)
        if self._jail is not None:
            self._jail.close()
            self._jail = None

    async def run(
        self,
        source: str,
        request: ScriptRequest,
        send: SendScript,
        *,
        operation_id: str,
        correlation_id: str = "",
        isolation_key: str | None = None,
        owner: str | None = None,
    ) -> ScriptResponse:
        """Run ``source``'s ``Script.execute`` for one call; raises a ``ScriptError`` on any failure.

        ``isolation_key`` says which calls may share a worker (without one, only calls of the
        very same script do); ``owner`` is whose share of the slots the call takes.
        """
        if self._closed:
            raise ScriptCrashed("the script pool is closed")
        key = isolation_key or "script:" + hashlib.sha256(source.encode("utf-8")).hexdigest()
        async with self._slots.slot(owner or key, self.limits.queue_timeout):
            worker = await self._checkout(key) or await self._start(key)
            healthy = False
            try:
                result = await self._job(worker, source, request, send, operation_id, correlation_id)
                healthy = True
                return result
            finally:
                await self._checkin(worker, healthy)

    async def _job(
        self,
        worker: _Worker,
        source: str,
        request: ScriptRequest,
        send: SendScript,
        operation_id: str,
        correlation_id: str,
    ) -> ScriptResponse:
        job = {
            "type": "run",
            "source": source,
            "operation_id": operation_id,
            "correlation_id": correlation_id,
            "request": message_from_request(request.method, request.url, request.headers, request.content),
            "timeout": self.limits.timeout,
        }
        try:
            frame = encode_frame(job, self.limits.max_message)
        except ProtocolViolation:
            raise ScriptTooLarge(
                f"the request is too large to hand to custom code (the limit is {self.limits.max_message:,} "
                "bytes with the script); send a smaller body or leave this operation out of scriptOperations"
            ) from None
        try:
            async with asyncio.timeout(self.limits.timeout + _GRACE):
                await asyncio.get_running_loop().sock_sendall(worker.sock, frame)
                return await self._serve(worker, send)
        except TimeoutError:
            if worker.alive():
                raise ScriptTimeout(
                    f"the script did not finish within {self.limits.timeout:g} s; it was stopped"
                ) from None
            raise ScriptCrashed(_death(worker)) from None
        except ProtocolViolation as exc:
            _log.warning("script worker %s broke the protocol: %s", worker.process.pid, exc)
            raise ScriptProtocolError(
                f"the script's worker sent a message the protocol does not allow ({exc}); it was stopped"
            ) from None
        except (EOFError, OSError):
            raise ScriptCrashed(_death(worker)) from None

    async def _serve(self, worker: _Worker, send: SendScript) -> ScriptResponse:
        max_frame = self.limits.max_message
        logged = 0
        while True:
            message = await worker.receive(max_frame)
            kind = message[0]
            if kind == "send":
                _, method, url, headers, content = message
                try:
                    response = await send(ScriptRequest(method, url, headers, content))
                except ScriptError:
                    raise
                except Exception as exc:  # the API call failed: the script sees it as an exception
                    failure = {"type": "send-failed", "message": f"{type(exc).__name__}: {exc}"}
                    await worker.send(failure, max_frame)
                    continue
                answer = message_from_response(response.status_code, dict(response.headers), response.content)
                try:
                    reply = encode_frame({"type": "response", "response": answer}, max_frame)
                except ProtocolViolation:
                    limit = f"the API's answer is over custom code's {max_frame:,}-byte limit"
                    reply = encode_frame({"type": "send-failed", "message": limit}, max_frame)
                await asyncio.get_running_loop().sock_sendall(worker.sock, reply)
            elif kind == "log":
                logged += 1
                if logged <= _MAX_LOG_LINES:
                    _log.log(message[1], "script: %s", message[2])
                elif logged == _MAX_LOG_LINES + 1:
                    _log.warning("script: over %d log lines in a call; the rest are dropped", _MAX_LOG_LINES)
            elif kind == "done":
                _, status, headers, content = message
                return ScriptResponse(status, headers, content)
            elif kind == "error":
                _, error_kind, text, line = message
                raise BY_KIND[error_kind](text, line=line)
            else:
                raise ProtocolViolation(f"unexpected {kind!r} message during a job")

    async def _checkout(self, key: str) -> _Worker | None:
        """An idle worker of ``key``; retires idle workers that are dead or idle too long."""
        now = time.monotonic()
        found: _Worker | None = None
        keep: list[_Worker] = []
        retire: list[_Worker] = []
        for worker in self._idle:
            if not worker.alive() or now - worker.idle_since > self.limits.idle_seconds:
                retire.append(worker)
            elif found is None and worker.key == key:
                found = worker
            else:
                keep.append(worker)
        self._idle = keep
        for worker in retire:
            await asyncio.to_thread(worker.kill)
        return found

    async def _checkin(self, worker: _Worker, healthy: bool) -> None:
        if not (healthy and worker.alive() and not self._closed):
            await asyncio.to_thread(worker.kill)
            return
        worker.idle_since = time.monotonic()
        self._idle.append(worker)
        while len(self._idle) > 2 * self.size:  # keep the most recently used
            await asyncio.to_thread(self._idle.pop(0).kill)

    async def _start(self, key: str) -> _Worker:
        """A new worker, once it is ready: its start-up never counts against a script's time."""
        if self._jail is None:
            self._jail = Jail()
        worker = await asyncio.to_thread(_Worker, self._jail, key, self.limits)
        self.started += 1
        try:
            async with asyncio.timeout(_STARTUP_TIMEOUT):
                ready = await worker.receive(1024)
            if ready != ("ready",):
                raise ProtocolViolation("the first message was not 'ready'")
        except (EOFError, OSError, TimeoutError, ProtocolViolation):
            with contextlib.suppress(subprocess.TimeoutExpired):  # a failed sandbox exits at once
                await asyncio.to_thread(worker.process.wait, 2)
            alive = worker.alive()
            reason = "" if alive else worker.stderr_text()
            await asyncio.to_thread(worker.kill)
            if alive:
                raise ScriptCrashed("the script worker did not start in time") from None
            raise ScriptSandboxUnavailable(
                f"the sandbox for custom code could not start (exit code {worker.process.returncode}"
                + (f": {reason[:500]}" if reason else "")
                + f"); {INSTALL_HINT}"
            ) from None
        return worker


def _death(worker: _Worker) -> str:
    code = worker.process.poll()
    return (
        f"the script's worker process died (exit code {code}); it may have exceeded its memory or CPU limit"
    )
