"""The Python-level guard inside a worker: a friendly early error, not the wall.

The wall is the operating system (``_jail``: bubblewrap namespaces, an unprivileged uid, a
read-only minimal file system; ``_lockdown``: rlimits and seccomp). A script can reach and
undo what is here through introspection, and nothing depends on it; it only makes the
common mistakes fail at their own line with a clear message:

* **Audit hook** (``sys.addaudithook``): sockets, opening files (except reading Python's own
  library, which lazy standard imports need), running programs, ``ctypes``, changing files
  or the environment are refused with :class:`Forbidden`.
* **Import allow-list**: the script's ``__import__`` admits only harmless standard modules
  (:data:`ALLOWED_MODULES`).
"""

from __future__ import annotations

import builtins
import os
import sys
import sysconfig
from collections.abc import Callable
from typing import Any

__all__ = ["ALLOWED_MODULES", "Forbidden", "install", "restricted_builtins"]

ALLOWED_MODULES = frozenset(
    {
        "asyncio", "base64", "binascii", "bisect", "calendar", "collections", "copy", "dataclasses",
        "datetime", "decimal", "enum", "fractions", "functools", "hashlib", "heapq", "hmac", "html",
        "itertools", "json", "logging", "math", "operator", "random", "re", "statistics", "string",
        "struct", "textwrap", "time", "typing", "unicodedata", "urllib.parse", "uuid", "zoneinfo",
        "xml.etree.ElementTree",
        "tether.runtime.script",
    }
)  # fmt: skip
# Modules imported up front, so that allowed imports never need the file system later.
_PRELOAD = [*ALLOWED_MODULES - {"tether.runtime.script"}, "_strptime", "encodings.idna", "encodings.utf_8"]

_FORBIDDEN_EVENTS = ("socket.", "subprocess.", "ctypes.", "os.exec", "os.spawn", "os.posix_spawn", "shutil.")
_FORBIDDEN_EXACT = frozenset(
    {
        "os.system", "os.fork", "os.forkpty", "os.kill", "os.killpg", "os.remove", "os.rename", "os.rmdir",
        "os.mkdir", "os.chmod", "os.chown", "os.link", "os.symlink", "os.truncate", "os.utime", "os.listdir",
        "os.scandir", "os.chdir", "os.putenv", "os.unsetenv", "os.startfile", "pty.spawn", "mmap.__new__",
        "resource.setrlimit", "resource.prlimit", "urllib.Request", "ftplib.connect", "smtplib.connect",
        "webbrowser.open", "sqlite3.connect", "signal.pthread_kill", "_posixsubprocess.fork_exec",
    }
)  # fmt: skip


class Forbidden(PermissionError):
    """Raised inside the worker when a script tries something custom code may not do."""


def install(lock_down: Callable[[], object]) -> None:
    """Lock the worker down: preload, then ``lock_down()`` (the OS limits), then the audit hook."""
    for name in _PRELOAD:
        __import__(name)
    lock_down()
    import zoneinfo  # preloaded; its time zone folders are readable like the library

    readable = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"], *zoneinfo.TZPATH)
    roots = tuple({os.path.realpath(p) + os.sep for p in readable})
    sys.addaudithook(_hook(roots))


def _hook(stdlib_roots: tuple[str, ...]) -> Callable[[str, tuple[Any, ...]], None]:
    def audit(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode = args[0], args[1]
            writing = isinstance(mode, str) and any(c in mode for c in "wax+")
            if isinstance(mode, int):
                writing = bool(mode & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC))
            if isinstance(path, int):  # an already open descriptor (the pipe to the server)
                return
            real = os.path.realpath(os.fsdecode(path))
            if writing or not real.startswith(stdlib_roots):
                raise Forbidden(f"custom code may not open files ({os.fsdecode(path)!r})")
        elif event.startswith(_FORBIDDEN_EVENTS) or event in _FORBIDDEN_EXACT:
            what = "network access" if event.startswith("socket.") else f"'{event}'"
            raise Forbidden(f"custom code may not use {what}; call the API with context.send")

    return audit


def restricted_builtins() -> dict[str, Any]:
    """The builtins a script runs with: ``__import__`` checks the allow-list.

    ``open`` stays, so that trying it fails with the audit hook's clear message rather
    than a puzzling ``NameError``.
    """
    real_import = builtins.__import__

    def guarded_import(
        name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ) -> Any:
        if level == 0 and not _allowed(name, fromlist):
            raise Forbidden(
                f"custom code may not import '{name}'; allowed: {', '.join(sorted(ALLOWED_MODULES))}"
            )
        return real_import(name, globals, locals, fromlist, level)

    safe = dict(vars(builtins))
    safe["__import__"] = guarded_import
    for name in ("breakpoint", "input", "exit", "quit", "help"):
        safe.pop(name, None)
    return safe


def _allowed(name: str, fromlist: Any) -> bool:
    if name in ALLOWED_MODULES or any(
        name.startswith(m + ".") for m in ALLOWED_MODULES if m != "tether.runtime.script"
    ):
        return True
    # "from urllib import parse" / "import xml.etree.ElementTree" name a parent package.
    return bool(fromlist) and all(f"{name}.{item}" in ALLOWED_MODULES for item in fromlist)
