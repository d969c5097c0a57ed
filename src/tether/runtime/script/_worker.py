"""The loop of one script worker process (started with ``spawn``, never ``fork``).

Messages on the pipe, all plain tuples:

    worker ⇒ server  ("ready",)                      once, when started and locked down
    server ⇒ worker  ("run", digest, source, operation_id, correlation_id, ScriptRequest, timeout)
    worker ⇒ server  ("send", ScriptRequest)         the script called context.send
    server ⇒ worker  ("response", ScriptResponse) or ("send-failed", message)
    worker ⇒ server  ("log", level, message)
    worker ⇒ server  ("done", ScriptResponse) or ("error", kind, message, line)

A soft timer (``SIGALRM``) interrupts a script that runs too long so the error can name the
line it was on; the server kills the worker if even that does not end it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import traceback
from multiprocessing.connection import Connection
from types import CodeType, TracebackType
from typing import Any

from tether.runtime.script._base import ScriptBase, ScriptContext, ScriptRequest, ScriptResponse
from tether.runtime.script._sandbox import Forbidden, install, restricted_builtins

__all__ = ["FILENAME", "boot", "main"]

FILENAME = "script.py"


class _Timeout(BaseException):
    """Raised by the soft timer; a BaseException so ``except Exception`` in scripts cannot swallow it."""


class _PipeHandler(logging.Handler):
    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        self.conn.send(("log", record.levelno, record.getMessage()))


def boot(argv: list[str]) -> None:
    """Entry point of the worker interpreter: ``<pipe fd> <memory bytes>``."""
    main(Connection(int(argv[0])), int(argv[1]))


def main(conn: Connection, memory_bytes: int) -> None:
    """Serve jobs from ``conn`` until it closes."""
    loop = asyncio.new_event_loop()  # before the sandbox: the loop's self-pipe is a socket pair
    logger = logging.getLogger("tether.script.worker")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(_PipeHandler(conn))
    signal.signal(signal.SIGALRM, _on_alarm)
    install(memory_bytes)
    conn.send(("ready",))
    compiled: dict[str, CodeType | SyntaxError] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] != "run":
            continue
        _, digest, source, operation_id, correlation_id, request, timeout = message
        if digest not in compiled:
            compiled.clear()  # one connector's script per worker at a time is the common case
            compiled[digest] = _compile(source)
        outcome = _run(loop, conn, compiled[digest], operation_id, correlation_id, request, timeout, logger)
        conn.send(outcome)


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _compile(source: str) -> CodeType | SyntaxError:
    try:
        return compile(source, FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return exc
    except (ValueError, MemoryError, RecursionError) as exc:
        return SyntaxError(str(exc))


def _run(
    loop: asyncio.AbstractEventLoop,
    conn: Connection,
    code: CodeType | SyntaxError,
    operation_id: str,
    correlation_id: str,
    request: ScriptRequest,
    timeout: float,
    logger: logging.Logger,
) -> tuple[Any, ...]:
    if isinstance(code, SyntaxError):
        return ("error", "syntax", code.msg or str(code), code.lineno)

    async def send(outgoing: ScriptRequest) -> ScriptResponse:
        conn.send(("send", outgoing))
        reply = conn.recv()
        if reply[0] == "response":
            return reply[1]  # type: ignore[no-any-return]
        raise ConnectionError(reply[1])

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
            return ("error", "invalid", "the script must define 'class Script(ScriptBase)'", None)
        context = ScriptContext(
            operation_id=operation_id,
            correlation_id=correlation_id,
            request=request,
            send=send,
            logger=logger,
        )
        result = loop.run_until_complete(script_class(context).execute())
        if not isinstance(result, ScriptResponse):
            return (
                "error",
                "invalid",
                f"execute() returned {type(result).__name__}, not a response "
                "(return the result of 'await self.context.send(...)')",
                None,
            )
        return ("done", result)
    except _Timeout as exc:
        return (
            "error",
            "timeout",
            f"the script did not finish within {timeout:g} s",
            _line(exc.__traceback__),
        )
    except Forbidden as exc:
        return ("error", "forbidden", str(exc), _line(exc.__traceback__))
    except MemoryError as exc:
        return ("error", "memory", "the script ran out of memory", _line(exc.__traceback__))
    except BaseException as exc:  # the script's own failure, whatever it is
        summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return ("error", "failed", summary, _line(exc.__traceback__))
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
