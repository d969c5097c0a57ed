"""What a worker does to itself before it reads any script: resource limits and a seccomp filter.

Runs inside the bubblewrap sandbox (standard library only). The limits hold whatever the
script does to the Python objects around it, because the kernel enforces them:

* ``RLIMIT_AS`` memory (what the worker uses at start plus the script's allowance),
  ``RLIMIT_CPU`` (the worker's lifetime CPU budget; the pool retires it at half),
  ``RLIMIT_NPROC``, ``RLIMIT_NOFILE``, ``RLIMIT_FSIZE`` and no core files.
* the seccomp filter the server built (see ``_seccomp``), loaded with ``prctl``: no
  ``execve``, ``fork``, new processes, sockets, ``ptrace``, mounts or namespaces.
"""

from __future__ import annotations

import ctypes
import os
import resource

__all__ = ["NOFILE", "NPROC", "apply_limits", "load_seccomp"]

NPROC = 16  # threads included; new processes are refused by seccomp anyway
NOFILE = 32
_FSIZE = 1024 * 1024  # the private /tmp is memory
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def apply_limits(memory_bytes: int, cpu_seconds: int) -> None:
    """Set this process's hard and soft limits (they can only go down from here)."""
    memory = _address_space() + memory_bytes
    for limit, value in (
        (resource.RLIMIT_AS, memory),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_NPROC, NPROC),
        (resource.RLIMIT_NOFILE, NOFILE),
        (resource.RLIMIT_FSIZE, _FSIZE),
        (resource.RLIMIT_CORE, 0),
    ):
        _soft, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))


def load_seccomp(program: bytes) -> None:
    """Install ``program`` (a compiled classic BPF filter) on this process; fail loudly if refused."""
    if not program or len(program) % 8:
        raise RuntimeError("the seccomp program is empty or malformed")
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 256 * 1024 * 1024
