"""The loop of one script worker process, inside the bubblewrap sandbox (see ``_jail``).

It locks itself down before it reads anything from the server: resource limits and the
seccomp filter (``_lockdown``), then the Python-level guard (``_sandbox``), then says
``ready``. Messages are length-prefixed JSON frames (``_protocol``), never pickles.

A soft timer (``SIGALRM``) interrupts a script that runs too long so the error can name the
line it was on; the server kills the worker if even that does not end it. After a job, a
worker that has used half its CPU budget exits, and the pool starts a fresh one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import socket
import sys
import traceback
from types import CodeType, TracebackType
from typing import Any

from tether.runtime.script._base import ScriptBase, ScriptContext, ScriptRequest, ScriptResponse
from tether.runtime.script._lockdown import apply_limits, load_seccomp
from tether.runtime.script._protocol import (
    ProtocolViolation,
    encode_frame,
    message_from_request,
    message_from_response,
    parse_request,
    parse_response,
    read_frame,
)
from tether.runtime.script._sandbox import Forbidden, install, restricted_builtins

__all__ = ["FILENAME", "boot", "main"]

FILENAME = "script.py"
SECCOMP_PATH = "/opt/tether-script/seccomp.bpf"


class _Timeout(BaseException):
    """Raised by the soft timer; a BaseException so ``except Exception`` in scripts cannot swallow it."""


class _PipeHandler(logging.Handler):
    def __init__(self, sock: socket.socket, max_frame: int) -> None:
        super().__init__()
        self.sock = sock
        self.max_frame = max_frame

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()[:60000]
        level = min(max(record.levelno, 0), 100)
        self.sock.sendall(encode_frame({"type": "log", "level": level, "message": text}, self.max_frame))


def boot(argv: list[str]) -> None:
    """Entry point of the worker interpreter: ``<socket fd> <memory bytes> <cpu seconds> <frame bytes>``."""
    sock = socket.socket(fileno=int(argv[0]))
    sock.setblocking(True)
    main(sock, int(argv[1]), int(argv[2]), int(argv[3]))


def main(sock: socket.socket, memory_bytes: int, cpu_seconds: int, max_frame: int) -> None:
    """Lock down, then serve jobs from ``sock`` until it closes."""
    loop = asyncio.new_event_loop()  # before the filter: the loop's self-pipe is a socket pair
    logger = logging.getLogger("tether.script.worker")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(_PipeHandler(sock, max_frame))
    signal.signal(signal.SIGALRM, _on_alarm)
    with open(SECCOMP_PATH, "rb") as bpf:
        program = bpf.read()

    def lock_down() -> None:
        apply_limits(memory_bytes, cpu_seconds)
        load_seccomp(program)
        _quiet_stderr()

    install(lock_down)
    sock.sendall(encode_frame({"type": "ready"}))
    compiled: dict[str, CodeType | SyntaxError] = {}
    while True:
        try:
            message = read_frame(sock, max_frame)
        except (OSError, ValueError):
            return
        if message is None:
            return
        if message.get("type") != "run":
            continue
        source = message["source"]
        if source not in compiled:
            compiled.clear()  # one connector's script per worker
            compiled[source] = _compile(source)
        method, url, headers, content = parse_request(message["request"])
        request = ScriptRequest(method, url, headers, content)
        outcome = _run(
            loop, sock, compiled[source], message["operation_id"], message["correlation_id"], request,
            float(message["timeout"]), logger, max_frame,
        )  # fmt: skip
        try:
            frame = encode_frame(outcome, max_frame)
        except ProtocolViolation as exc:
            too_large = _error("failed", f"the script's answer is too large: {exc}", None)
            frame = encode_frame(too_large, max_frame)
        sock.sendall(frame)
        if _cpu_used() > cpu_seconds / 2:
            return  # retire before the kernel's CPU limit can strike in the middle of a job


def _quiet_stderr() -> None:
    """Nothing a script writes reaches the server's terminal or logs except through the protocol."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.dup2(devnull, 1)
    os.close(devnull)


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _compile(source: str) -> CodeType | SyntaxError:
    try:
        return compile(source, FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return exc
    except (ValueError, MemoryError, RecursionError) as exc:
        return SyntaxError(str(exc))


def _error(kind: str, message: str, line: int | None) -> dict[str, Any]:
    return {"type": "error", "kind": kind, "message": message[:60000], "line": line}


def _run(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    code: CodeType | SyntaxError,
    operation_id: str,
    correlation_id: str,
    request: ScriptRequest,
    timeout: float,
    logger: logging.Logger,
    max_frame: int,
) -> dict[str, Any]:
    if isinstance(code, SyntaxError):
        return _error("syntax", code.msg or str(code), code.lineno)

    async def send(outgoing: ScriptRequest) -> ScriptResponse:
        content = outgoing.content
        if not isinstance(content, (bytes, bytearray)):
            content = str(content).encode("utf-8")
        headers = {str(k): str(v) for k, v in dict(outgoing.headers).items()}
        wire = message_from_request(str(outgoing.method), str(outgoing.url), headers, bytes(content))
        sock.sendall(encode_frame({"type": "send", "request": wire}, max_frame))
        reply = read_frame(sock, max_frame)
        if reply is None:
            raise ConnectionError("the server closed the connection")
        if reply.get("type") == "response":
            status, headers, content = parse_response(reply["response"])
            return ScriptResponse(status, headers, content)
        raise ConnectionError(str(reply.get("message", "the call failed")))

    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        namespace: dict[str, Any] = {
            "__name__": "script",
            "__builtins__": restricted_builtins(),
            "ScriptBase": ScriptBase,
            "ScriptRequest": ScriptRequest,
            "ScriptResponse": ScriptResponse,
        }
        exec(code, namespace)
        script_class = namespace.get("Script")
        if not (isinstance(script_class, type) and issubclass(script_class, ScriptBase)):
            return _error("invalid", "the script must define 'class Script(ScriptBase)'", None)
        context = ScriptContext(
            operation_id=operation_id,
            correlation_id=correlation_id,
            request=request,
            send=send,
            logger=logger,
        )
        result = loop.run_until_complete(script_class(context).execute())
        if not isinstance(result, ScriptResponse):
            return _error(
                "invalid",
                f"execute() returned {type(result).__name__}, not a response "
                "(return the result of 'await self.context.send(...)')",
                None,
            )
        content = result.content
        if not isinstance(content, (bytes, bytearray)):
            content = str(content).encode("utf-8")
        headers = {str(k): str(v) for k, v in dict(result.headers).items()}
        answer = message_from_response(int(result.status_code), headers, bytes(content))
        return {"type": "done", "response": answer}
    except _Timeout as exc:
        return _error("timeout", f"the script did not finish within {timeout:g} s", _line(exc.__traceback__))
    except Forbidden as exc:
        return _error("forbidden", str(exc), _line(exc.__traceback__))
    except MemoryError as exc:
        return _error("memory", "the script ran out of memory", _line(exc.__traceback__))
    except BaseException as exc:  # the script's own failure, whatever it is
        summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return _error("failed", summary, _line(exc.__traceback__))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _cancel_pending(loop)


def _line(tb: TracebackType | None) -> int | None:
    """The line of the innermost frame that belongs to the script."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        try:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        except BaseException:  # a script task that refuses to stop is killed with the worker later
            sys.stderr.write("tether script worker: a task did not stop\n")
