"""Errors of custom code, under Tether's tree (``tether.errors``).

TetherError
└── ScriptError                 custom code failed; ``line`` is the script's line when known
    ├── ScriptTooLarge          the script is over the size limit (checked before running)
    ├── ScriptSyntaxError       the script does not compile
    ├── ScriptInvalid           no ``class Script(ScriptBase)`` with ``async def execute``
    ├── ScriptTimeout           it ran past its wall-clock limit (the worker is killed)
    ├── ScriptForbidden         it tried a forbidden import, network or file access
    ├── ScriptMemoryError       it ran out of its memory allowance
    ├── ScriptFailed            it raised an exception
    ├── ScriptCrashed           its worker process died
    ├── ScriptProtocolError     its worker broke the wire protocol (it is killed)
    ├── ScriptBusy              too many scripts of the same owner (or in all) are running
    └── ScriptSandboxUnavailable  the OS sandbox cannot run here: custom code is refused
"""

from __future__ import annotations

from typing import Any

from tether.errors import TetherError

__all__ = [
    "ScriptBusy",
    "ScriptCrashed",
    "ScriptError",
    "ScriptFailed",
    "ScriptForbidden",
    "ScriptInvalid",
    "ScriptMemoryError",
    "ScriptProtocolError",
    "ScriptSandboxUnavailable",
    "ScriptSyntaxError",
    "ScriptTimeout",
    "ScriptTooLarge",
]


class ScriptError(TetherError):
    """Custom code (``script.py``) failed; the message names the file and line."""

    code = "script-error"
    status = 502

    def __init__(
        self, message: str, *, line: int | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        where = f"script.py:{line}: " if line else "script.py: "
        super().__init__(where + message, detail={**(detail or {}), "line": line})
        self.line = line


class ScriptTooLarge(ScriptError):
    """The script is bigger than allowed (1 MB by default, as in Power Platform)."""

    code = "script-too-large"
    status = 413


class ScriptSyntaxError(ScriptError):
    """The script is not valid Python."""

    code = "script-syntax"
    status = 422


class ScriptInvalid(ScriptError):
    """The script does not define ``class Script(ScriptBase)`` with ``async def execute(self)``."""

    code = "script-invalid"
    status = 422


class ScriptTimeout(ScriptError):
    """The script did not finish in time (5 s by default)."""

    code = "script-timeout"
    status = 504
    retryable = True


class ScriptForbidden(ScriptError):
    """The script tried something custom code may not do: open sockets or files, run programs, import them."""

    code = "script-forbidden"
    status = 403


class ScriptMemoryError(ScriptError):
    """The script used more memory than allowed."""

    code = "script-memory"


class ScriptFailed(ScriptError):
    """The script raised an exception."""

    code = "script-failed"


class ScriptCrashed(ScriptError):
    """The worker running the script died (killed by the system, or a crash in C code)."""

    code = "script-crashed"
    retryable = True


class ScriptProtocolError(ScriptError):
    """The worker sent something the protocol does not allow (not JSON, a wrong field, too large):
    it is treated as crashed and killed."""

    code = "script-protocol"


class ScriptBusy(ScriptError):
    """The connector owner's share of script workers (or all of them) stayed busy past the wait."""

    code = "script-busy"
    status = 503
    retryable = True


class ScriptSandboxUnavailable(ScriptError):
    """The OS sandbox (bubblewrap, seccomp) is missing or cannot start: custom code is refused."""

    code = "script-sandbox-unavailable"
    status = 503


BY_KIND: dict[str, type[ScriptError]] = {
    "syntax": ScriptSyntaxError,
    "invalid": ScriptInvalid,
    "timeout": ScriptTimeout,
    "forbidden": ScriptForbidden,
    "memory": ScriptMemoryError,
    "failed": ScriptFailed,
    "crashed": ScriptCrashed,
}
