"""The operating-system sandbox of a script worker: the ``bwrap`` (bubblewrap) command line.

The worker runs as an unprivileged uid/gid inside fresh user, PID, network, IPC, UTS and
cgroup namespaces (``--unshare-all``: no network at all; its only channel is the socket pair
to the server), in a new session, dying with its parent, with a cleared environment and a
read-only file system holding only the system libraries, the interpreter's own prefix and a
staging directory with the few worker modules (standard library only; not Tether's install,
never ``TETHER_HOME``, the server's working directory or ``/root`` beyond the interpreter),
plus a private ``/tmp`` in memory and fresh ``/proc`` and ``/dev``.

Without ``bwrap`` (or ``pyseccomp``/libseccomp) custom code is refused with
:class:`ScriptSandboxUnavailable`: there is no unsandboxed fallback.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from tether.runtime.script._errors import ScriptSandboxUnavailable

__all__ = ["SANDBOX_ROOT", "Jail"]

SANDBOX_ROOT = "/opt/tether-script"
_UNPRIVILEGED = "65534"  # nobody / nogroup
_TMP_BYTES = 16 * 1024 * 1024
_ZONEINFO = "/usr/share/zoneinfo"
# The modules the worker runs; they import only the standard library and each other.
_WORKER_MODULES = ("_base.py", "_lockdown.py", "_protocol.py", "_sandbox.py", "_worker.py")
_PACKAGE_INIT = (
    '"""The part of tether.runtime.script a sandboxed worker has."""\n'
    "from tether.runtime.script._base import ScriptBase, ScriptContext, ScriptRequest, ScriptResponse\n"
)
_BOOT = (
    f"import sys; sys.path.insert(0, {SANDBOX_ROOT!r}); "
    "from tether.runtime.script._worker import boot; boot(sys.argv[1:])"
)
INSTALL_HINT = (
    "custom code runs only inside the bubblewrap sandbox: install it (Debian/Ubuntu: 'apt-get install "
    "bubblewrap libseccomp2', plus the Python package 'pyseccomp') and allow unprivileged user "
    "namespaces (sysctl kernel.unprivileged_userns_clone=1)"
)


class Jail:
    """Makes the sandbox's staging directory once and the ``bwrap`` command for each worker."""

    def __init__(self) -> None:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise ScriptSandboxUnavailable(f"'bwrap' was not found on PATH; {INSTALL_HINT}")
        try:
            from tether.runtime.script._seccomp import seccomp_program

            program = seccomp_program()
        except (ImportError, OSError, RuntimeError) as exc:
            raise ScriptSandboxUnavailable(
                f"the seccomp filter could not be built ({type(exc).__name__}: {exc}); {INSTALL_HINT}"
            ) from None
        self.bwrap = bwrap
        self.staging = Path(tempfile.mkdtemp(prefix="tether-script-"))
        self._stage(program)

    def _stage(self, program: bytes) -> None:
        package = self.staging / "tether" / "runtime" / "script"
        package.mkdir(parents=True)
        (self.staging / "tether" / "__init__.py").write_text("")
        (self.staging / "tether" / "runtime" / "__init__.py").write_text("")
        (package / "__init__.py").write_text(_PACKAGE_INIT)
        here = Path(__file__).parent
        for name in _WORKER_MODULES:
            shutil.copyfile(here / name, package / name)
        (self.staging / "seccomp.bpf").write_bytes(program)
        for path in [self.staging, *self.staging.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)

    def command(self, fd: int, memory_bytes: int, cpu_seconds: int, max_frame: int) -> list[str]:
        """The command starting one worker that talks on inherited descriptor ``fd``."""
        interpreter = os.path.realpath(sys.executable)
        prefix = os.path.realpath(sys.base_prefix)
        # --unshare-user explicitly: never run without a user namespace (--unshare-all only tries).
        args = [self.bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"]
        args += ["--clearenv"]
        args += ["--uid", _UNPRIVILEGED, "--gid", _UNPRIVILEGED, "--hostname", "tether-script"]
        args += ["--cap-drop", "ALL"]
        bound: list[str] = []
        for path in ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32"):
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                args += ["--ro-bind", path, path]
                bound.append(path + os.sep)
        if os.path.isdir(_ZONEINFO):  # time zones for zoneinfo (public data)
            args += ["--ro-bind", _ZONEINFO, _ZONEINFO]
        if not (prefix + os.sep).startswith(tuple(bound)):
            args += ["--ro-bind", prefix, prefix]
            bound.append(prefix + os.sep)
        if not interpreter.startswith(tuple(bound)):
            args += ["--ro-bind", interpreter, interpreter]
        args += ["--ro-bind", str(self.staging), SANDBOX_ROOT]
        args += ["--proc", "/proc", "--dev", "/dev", "--size", str(_TMP_BYTES), "--tmpfs", "/tmp"]
        args += ["--chdir", "/tmp", "--"]
        args += [interpreter, "-I", "-S", "-B", "-c", _BOOT]
        args += [str(fd), str(memory_bytes), str(cpu_seconds), str(max_frame)]
        return args

    def close(self) -> None:
        """Remove the staging directory."""
        shutil.rmtree(self.staging, ignore_errors=True)
