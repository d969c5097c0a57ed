"""The seccomp filter of script workers, compiled by libseccomp (through ``pyseccomp``) in the server.

Default allow, with the calls an escaped script would need to get further refused with
``EPERM``: running programs, new processes (``clone`` without ``CLONE_THREAD``), sockets,
tracing other processes, mounts, namespaces, kernel modules and keyrings. ``clone3`` answers
``ENOSYS`` so that the C library falls back to ``clone`` for threads, which the filter can inspect.
The worker loads it on itself (``_lockdown.load_seccomp``) before it reads any script.
"""

from __future__ import annotations

import errno
import functools
import tempfile

__all__ = ["REFUSED_SYSCALLS", "seccomp_program"]

REFUSED_SYSCALLS = (
    "execve", "execveat", "fork", "vfork", "socket", "socketpair", "connect", "bind", "listen",
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
    "unshare", "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "kexec_load", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
    "io_uring_setup", "open_by_handle_at", "name_to_handle_at",
)  # fmt: skip
_CLONE_THREAD = 0x00010000


@functools.cache
def seccomp_program() -> bytes:
    """The compiled BPF program (cached: the same for every worker); ``ImportError`` without pyseccomp."""
    import pyseccomp  # type: ignore[import-untyped]  # a ctypes binding of libseccomp

    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in REFUSED_SYSCALLS:
        rules.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
    new_process = pyseccomp.Arg(0, pyseccomp.MASKED_EQ, _CLONE_THREAD, 0)
    rules.add_rule(pyseccomp.ERRNO(errno.EPERM), "clone", new_process)
    rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as out:
        rules.export_bpf(out)
        out.seek(0)
        return out.read()
