"""Reading uploads for the connector routes: importers and package reads, in upload workers.

Nothing here parses a stranger's bytes in the server process: each upload is read with a
byte cap, then handed to the app's :class:`~tether.api._upload_workers.UploadWorkers`, which
parse, import and lint it under a time and memory limit and send back the files, the API's
title, the lint findings and the import report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request, UploadFile
from starlette.concurrency import run_in_threadpool

from tether.api._upload_workers import app_upload_workers
from tether.definition import MAX_DOCUMENT_BYTES, MAX_PACKAGE_BYTES, ConnectorPackage, package_from_files
from tether.errors import InputError, InputTooLarge

__all__ = ["FORMATS", "UploadRead", "read_archive", "read_package", "read_upload", "run_importer"]

FORMATS = ("openapi", "postman", "wsdl", "curl", "sample")


@dataclass
class UploadRead:
    """What a worker made of an upload: the package (files kept byte for byte) and its findings."""

    package: ConnectorPackage
    findings: list[dict[str, Any]]
    report: list[dict[str, str]] = field(default_factory=list)


async def run_importer(
    request: Request,
    format: str,
    *,
    file: UploadFile | None,
    command: str | None,
    sample_request: UploadFile | None,
    sample_response: UploadFile | None,
    fix: bool,
    mode: str,
    keep_duplicates: bool = False,
) -> UploadRead:
    """Import one uploaded description in an upload worker.

    ``keep_duplicates`` is the CLI's ``--keep-duplicates``: Postman requests sharing a method
    and path stay one action each instead of being merged (the default, as on the CLI).
    """
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    header: dict[str, Any] = {"job": "import", "format": format}
    blobs: list[bytes] = []
    if format == "curl":
        if not command:
            raise InputError("format=curl needs the 'command' field")
        header["command"] = command
    elif format == "sample":
        if sample_request is None:
            raise InputError("format=sample needs a 'request' file (and optionally a 'response' file)")
        blobs.append(await read_upload(sample_request))
        if sample_response is not None:
            blobs.append(await read_upload(sample_response))
    else:
        if file is None:
            raise InputError(f"format={format} needs a 'file'")
        if mode not in ("soap-to-rest", "passthrough"):
            raise InputError(f"unknown mode {mode!r}; use 'soap-to-rest' or 'passthrough'")
        blobs.append(await read_upload(file))
        header.update(
            filename=Path(file.filename or f"upload.{format}").name,
            fix=fix,
            mode=mode,
            keep_duplicates=keep_duplicates,
        )
    return await _run(request, header, blobs, source=header.get("filename") or format)


async def read_package(
    request: Request,
    *,
    archive: bytes | None = None,
    archive_name: str | None = None,
    files: dict[str, bytes] | None = None,
    source: str = "upload",
    profile: str = "custom",
) -> UploadRead:
    """Read a zipped package (``archive``) or paconn files, and lint it, in an upload worker."""
    header: dict[str, Any] = {"job": "package", "source": source, "profile": profile}
    if archive is not None:
        header.update(zip=True, zip_name=Path(archive_name or "package.zip").name)
        blobs = [archive]
    else:
        names = sorted(files or {})
        header["names"] = names
        blobs = [(files or {})[name] for name in names]
    return await _run(request, header, blobs, source=source)


async def read_upload(upload: UploadFile, *, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The upload's bytes, refused with 413 past ``limit`` (read no further than that)."""
    content = await upload.read(limit + 1)
    if len(content) > limit:
        name = Path(upload.filename or "upload").name
        raise InputTooLarge(
            f"{name}: larger than the {limit // 2**20} MiB a file may have; split it or remove unused parts",
            limit="MAX_DOCUMENT_BYTES" if limit == MAX_DOCUMENT_BYTES else "MAX_PACKAGE_BYTES",
            value=limit,
            file=name,
        )
    return content


async def read_archive(upload: UploadFile) -> bytes:
    """A zipped package's bytes (its unpacked size is capped again while it is inflated)."""
    return await read_upload(upload, limit=MAX_PACKAGE_BYTES)


async def _run(request: Request, header: dict[str, Any], blobs: list[bytes], *, source: str) -> UploadRead:
    answer, contents = await app_upload_workers(request.app).run(header, blobs)
    files = dict(zip(answer["names"], contents, strict=True))
    # Parsed again here for the services (bounded now: the worker proved it within every
    # limit), in a thread; the worker's lint findings are reused, not recomputed.
    package = await run_in_threadpool(package_from_files, files, source=source)
    return UploadRead(package=package, findings=answer["findings"], report=answer["report"])
