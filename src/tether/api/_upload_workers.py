"""Reading uploads in worker processes with a time and memory limit, off the event loop.

A hostile upload (an alias bomb, a pathological WSDL, a definition that makes a rule work
hard) must cost the server nothing but a bounded wait: the parsing, importing and linting
run in ``tether.importers._upload_worker`` processes, a few kept warm (starting Python and
the importers costs about a second). A worker that runs past ``PARSE_TIMEOUT_SECONDS`` is
killed and replaced, and its caller gets a clear 400; the worker caps its own address
space at ``PARSE_MEMORY_BYTES``. The API's threads only wait on pipes (no GIL held), so
the event loop, and ``/health``, stay responsive throughout.

Workers get a minimal environment (no ``TETHER_*`` settings, no secrets): they need none.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
import weakref
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI

from tether import errors
from tether.definition import MAX_PACKAGE_BYTES, PARSE_MEMORY_BYTES, PARSE_TIMEOUT_SECONDS
from tether.errors import InputError, LimitExceeded, TetherError

__all__ = ["UploadWorkers", "app_upload_workers"]

WORKER_MODULE = "tether.importers._upload_worker"
DEFAULT_WORKERS = 2
# An answer holds the package's files (at most MAX_PACKAGE_BYTES) plus findings and report.
_MAX_ANSWER_BYTES = MAX_PACKAGE_BYTES + 32 * 1024 * 1024
_CHUNK = 1 << 16
_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "PYTHONPATH", "SYSTEMROOT")
_lock = threading.Lock()
_shared: UploadWorkers | None = None


class _Stopped(Exception):
    """The worker ran out of time (``timed_out``) or died; it has been killed."""

    def __init__(self, *, timed_out: bool) -> None:
        super().__init__("timed out" if timed_out else "died")
        self.timed_out = timed_out


class _Worker:
    """One worker process and the two pipes to it."""

    def __init__(self, memory_bytes: int) -> None:
        env = {key: os.environ[key] for key in _ENV_KEYS if key in os.environ}
        self.process = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, "--memory-bytes", str(memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
            start_new_session=True,  # a Ctrl-C meant for the server is not the worker's to handle
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)
        self._buffer = bytearray()

    def exchange(
        self, header: dict[str, Any], blobs: list[bytes], deadline: float
    ) -> tuple[dict[str, Any], list[bytes]]:
        line = json.dumps({**header, "blobs": [len(b) for b in blobs]}).encode() + b"\n"
        for part in (line, *blobs):
            self._send(part, deadline)
        answer_line = self._receive_line(deadline)
        answer: dict[str, Any] = json.loads(answer_line)
        lengths = [int(n) for n in answer.get("blobs", [])]
        if sum(lengths) + len(answer_line) > _MAX_ANSWER_BYTES:
            raise _Stopped(timed_out=False)
        return answer, [self._receive(length, deadline) for length in lengths]

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            self._wait(writing=True, deadline=deadline)
            try:
                written = os.write(self._in, view[:_CHUNK])
            except BlockingIOError:
                continue
            except OSError as exc:  # BrokenPipeError: it died while reading
                raise _Stopped(timed_out=False) from exc
            view = view[written:]

    def _receive_line(self, deadline: float) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) > _MAX_ANSWER_BYTES:
                raise _Stopped(timed_out=False)
            self._fill(deadline)

    def _receive(self, length: int, deadline: float) -> bytes:
        while len(self._buffer) < length:
            self._fill(deadline)
        data = bytes(self._buffer[:length])
        del self._buffer[:length]
        return data

    def _fill(self, deadline: float) -> None:
        self._wait(writing=False, deadline=deadline)
        try:
            chunk = os.read(self._out, 1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            raise _Stopped(timed_out=False)
        self._buffer += chunk

    def _wait(self, *, writing: bool, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Stopped(timed_out=True)
        fds = [self._in] if writing else [self._out]
        select.select([] if writing else fds, fds if writing else [], [], remaining)


class UploadWorkers:
    """A few warm worker processes; :meth:`run` does one job in one of them, bounded in time.

    ``size`` jobs run at once (more wait for a free worker); a worker is reused until it
    times out, dies or asks to retire (after a MemoryError), then it is killed and replaced.
    """

    def __init__(
        self,
        *,
        size: int = DEFAULT_WORKERS,
        timeout: float = PARSE_TIMEOUT_SECONDS,
        memory_bytes: int = PARSE_MEMORY_BYTES,
    ) -> None:
        self.size = size
        self.timeout = timeout
        self.memory_bytes = memory_bytes
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[_Worker] = []
        self._idle_lock = threading.Lock()
        self._closed = False

    async def run(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        """Do one job in a worker; a refusal comes back raised as the worker's ``TetherError``.

        Jobs waiting for a free worker wait here, in the event loop, not in a thread: a burst of
        uploads must not take every thread of the pool that ``/health`` and the API also use.
        """
        limiter = self._limiter()
        answer, out = await anyio.to_thread.run_sync(self._run, header, blobs, limiter=limiter)
        error = answer.get("error")
        if error is not None:
            raise _as_error(error)
        return answer, out

    def _limiter(self) -> anyio.CapacityLimiter:
        # One per event loop (anyio's limiter belongs to the loop that made it); tests run many.
        loop = asyncio.get_running_loop()
        with self._idle_lock:
            found = self._limiters.get(loop)
            if found is None:
                found = self._limiters[loop] = anyio.CapacityLimiter(self.size)
        return found

    def close(self) -> None:
        """Stop every idle worker (a busy one is stopped when its job ends)."""
        with self._idle_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    def _run(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        with self._slots:
            worker = self._take()
            started = time.monotonic()
            try:
                answer, out = worker.exchange(header, blobs, started + self.timeout)
            except _Stopped as stopped:
                worker.kill()
                raise _stopped_error(stopped, self.timeout, self.memory_bytes) from None
            except BaseException:
                worker.kill()
                raise
            self._give_back(worker, retire=bool(answer.get("retire")))
            return answer, out

    def _take(self) -> _Worker:
        with self._idle_lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.poll() is None:
                    return worker
                worker.kill()
        return _Worker(self.memory_bytes)

    def _give_back(self, worker: _Worker, *, retire: bool) -> None:
        with self._idle_lock:
            if not retire and not self._closed:
                self._idle.append(worker)
                return
        worker.kill()


def _stopped_error(stopped: _Stopped, timeout: float, memory_bytes: int) -> LimitExceeded:
    if stopped.timed_out:
        return LimitExceeded(
            f"reading the upload took longer than the {timeout:g} s an upload may take and was "
            "stopped; make it smaller or simpler (fewer operations, shallower schemas)",
            limit="PARSE_TIMEOUT_SECONDS",
            value=timeout,
        )
    return LimitExceeded(
        "the process reading the upload stopped unexpectedly, most likely out of the "
        f"{memory_bytes // 2**20} MiB of memory an upload may use; make it smaller or simpler",
        limit="PARSE_MEMORY_BYTES",
        value=memory_bytes,
    )


def _as_error(error: dict[str, Any]) -> TetherError:
    """The worker's refusal as the same ``TetherError`` class, code and message."""
    cls = getattr(errors, str(error.get("class")), None)
    if not (isinstance(cls, type) and issubclass(cls, InputError)):
        cls = _input_error_class(str(error.get("code")), int(error.get("status", 400)))
    instance: TetherError = cls.__new__(cls)
    TetherError.__init__(instance, str(error.get("message")), detail=dict(error.get("detail") or {}))
    return instance


def _input_error_class(code: str, status: int) -> type[InputError]:
    """An ``InputError`` that answers with the worker's code and status (e.g. unresolved-reference)."""
    if not 400 <= status < 500:
        status = 400
    return type("WorkerInputError", (InputError,), {"code": code, "status": status})


def app_upload_workers(app: FastAPI) -> UploadWorkers:
    """The upload workers for ``app``: its own if an embedder set ``app.state.upload_workers``,
    else this process's, made on first use (a server that takes no upload starts none).

    One pool per process, not per app: every app in a process (tests make hundreds) shares
    the warm workers, and they are stopped when the process exits.
    """
    found: UploadWorkers | None = getattr(app.state, "upload_workers", None)
    if found is not None:
        return found
    global _shared
    with _lock:
        if _shared is None:
            _shared = UploadWorkers()
            atexit.register(_shared.close)
        return _shared
