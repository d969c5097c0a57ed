"""The worker process that reads untrusted uploads for the API, under time and memory limits.

Parsing, importing and linting a stranger's file is CPU-bound and, however carefully
bounded, the one place where a crafted input could still make a parser work hard. So the API
never does it on its event loop or in its own memory: it sends the bytes here, over stdin,
and gets plain data back over stdout (JSON and raw bytes, never pickle). The parent kills
this process when it runs past ``PARSE_TIMEOUT_SECONDS``; the address space is capped at
``PARSE_MEMORY_BYTES`` above what the imports use, so a MemoryError is a clear error too.

Wire format, both ways: one JSON header line, then the raw blobs it announces
(``"blobs": [length, ...]``), back to back. Jobs:

* ``package``: a zip (one blob) or paconn files (``names`` + blobs) → read, lint.
* ``import``: ``format`` plus the source (blobs) → run the importer, lint.

Both answer ``title``, ``files`` (names + blobs), ``findings`` and ``report``; a refusal
answers ``error`` (the ``TetherError`` class name, code, message, detail).

Run as ``python -m tether.importers._upload_worker``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from tether.definition import (
    PARSE_MEMORY_BYTES,
    ConnectorPackage,
    package_from_files,
    package_from_zip,
)
from tether.definition.lint import lint_package
from tether.errors import InputError, LimitExceeded, TetherError

__all__ = ["handle", "main", "read_message", "write_message"]

_memory_cap = PARSE_MEMORY_BYTES  # what main() set; named in the MemoryError message
_DEFAULT_NAMES = {"openapi": "openapi.json", "postman": "collection.json", "wsdl": "service.wsdl"}


def read_message(stream: BinaryIO) -> tuple[dict[str, Any], list[bytes]] | None:
    """One header and its blobs from ``stream``, or None at end of input."""
    line = stream.readline()
    if not line:
        return None
    header: dict[str, Any] = json.loads(line)
    blobs = [_read_exactly(stream, int(length)) for length in header.get("blobs", [])]
    return header, blobs


def write_message(stream: BinaryIO, header: dict[str, Any], blobs: list[bytes] = ()) -> None:  # type: ignore[assignment]
    """Write ``header`` (with the blob lengths added) and ``blobs`` to ``stream``."""
    line = json.dumps({**header, "blobs": [len(b) for b in blobs]}, ensure_ascii=True) + "\n"
    stream.write(line.encode("ascii"))
    for blob in blobs:
        stream.write(blob)
    stream.flush()


def handle(header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
    """Do one job; every refusal becomes an ``error`` answer, never an exception."""
    try:
        if header.get("job") == "package":
            package, report = _read_package(header, blobs), list[Any]()
        elif header.get("job") == "import":
            package, report = _import(header, blobs)
        else:
            raise InputError(f"unknown job {header.get('job')!r}")
        findings = [f.to_dict() for f in lint_package(package, profile=header.get("profile", "custom"))]
    except TetherError as exc:
        return {"error": _error(exc)}, []
    except RecursionError:
        error: TetherError = LimitExceeded(
            "the upload is nested or refers to itself too deeply to be read; flatten it",
            limit="MAX_NESTING_DEPTH",
            value=sys.getrecursionlimit(),
        )
        return {"error": _error(error)}, []
    except MemoryError:
        error = LimitExceeded(
            "reading the upload needs more memory than an upload may use "
            f"({_memory_cap // 2**20} MiB); make it smaller or split it",
            limit="PARSE_MEMORY_BYTES",
            value=_memory_cap,
        )
        return {"error": _error(error), "retire": True}, []
    except Exception as exc:  # a Tether bug: said as such, with the traceback in the server log
        traceback.print_exc(file=sys.stderr)
        error = InputError(
            f"the upload could not be read: the reader failed on it ({type(exc).__name__}); this is a "
            "bug in Tether, please report it with the file"
        )
        return {"error": _error(error)}, []
    names = sorted(package.files)
    answer = {
        "title": package.title,
        "names": names,
        "findings": findings,
        "report": [item.to_dict() for item in report],
    }
    return answer, [package.files[name] for name in names]


def _read_package(header: dict[str, Any], blobs: list[bytes]) -> ConnectorPackage:
    source = str(header.get("source") or "upload")
    if header.get("zip"):
        files = package_from_zip(blobs[0], source=_safe_name(header.get("zip_name"), "package.zip")).files
    else:
        files = dict(zip(header["names"], blobs, strict=True))
    return package_from_files(files, source=source)


def _import(header: dict[str, Any], blobs: list[bytes]) -> tuple[ConnectorPackage, list[Any]]:
    from tether import importers

    format = header.get("format")
    if format == "curl":
        result = importers.import_curl(str(header.get("command") or ""))
    elif format == "sample":
        result = importers.import_sample(blobs[0], blobs[1] if len(blobs) > 1 else None)
    elif format in _DEFAULT_NAMES:
        filename = _safe_name(header.get("filename"), _DEFAULT_NAMES[format])
        if format == "postman":
            merge = not header.get("keep_duplicates")
            result = importers.import_postman(blobs[0], name=filename, merge_duplicates=merge)
        else:
            with _inside_scratch_folder() as folder:
                # A relative path, so messages name the user's file and never this temp folder.
                Path(filename).write_bytes(blobs[0])
                try:
                    if format == "openapi":
                        result = importers.import_openapi(Path(filename), fix=bool(header.get("fix")))
                    else:
                        result = importers.import_wsdl(Path(filename), name=filename, mode=header["mode"])
                except TetherError as exc:
                    raise _without_path(exc, folder) from exc
    else:
        raise InputError(f"unknown import format {format!r}")
    return result.package, result.report


def _safe_name(given: Any, default: str) -> str:
    name = Path(str(given or "")).name
    return name if name not in ("", ".", "..") else default


@contextmanager
def _inside_scratch_folder() -> Any:
    """A private temporary folder as the working directory (this process runs one job at a time)."""
    previous = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="tether-upload-") as folder:
        os.chdir(folder)
        try:
            yield folder
        finally:
            os.chdir(previous)


def _without_path(exc: TetherError, folder: str) -> TetherError:
    """``exc`` with the scratch folder taken out of its message and detail (belt and braces)."""
    real = os.path.realpath(folder)

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(real + os.sep, "").replace(folder + os.sep, "")
        return value

    exc.message = scrub(exc.message)
    exc.args = (exc.message,)
    exc.detail = {key: scrub(value) for key, value in exc.detail.items()}
    return exc


def _error(exc: TetherError) -> dict[str, Any]:
    detail = {key: value for key, value in exc.detail.items() if _is_json(value)}
    return {
        "class": type(exc).__name__,
        "code": exc.code,
        "status": exc.status,
        "message": exc.message,
        "detail": detail,
    }


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _read_exactly(stream: BinaryIO, length: int) -> bytes:
    data = stream.read(length)
    if len(data) != length:
        raise EOFError("the message ended early")
    return data


def _cap_memory(extra: int) -> None:
    # RLIMIT_AS counts address space, which the interpreter and its imports already use;
    # the cap is what a job may add on top of that.
    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * resource.getpagesize()
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main(argv: list[str] | None = None) -> None:
    """Serve jobs from stdin until it closes (the parent went away or retired this worker).

    ``--memory-bytes N`` replaces ``PARSE_MEMORY_BYTES`` (tests use a small cap).
    """
    import tether.importers  # noqa: F401  (imported before the memory cap is measured)

    args = sys.argv[1:] if argv is None else argv
    global _memory_cap
    if len(args) == 2 and args[0] == "--memory-bytes":
        _memory_cap = int(args[1])
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    # Whatever a library prints must not corrupt the channel: fd 1 becomes stderr.
    os.dup2(2, 1)
    _cap_memory(_memory_cap)
    while True:
        message = read_message(channel_in)
        if message is None:
            return
        answer, blobs = handle(*message)
        write_message(channel_out, answer, blobs)
        if answer.get("retire"):
            return


if __name__ == "__main__":
    main()
