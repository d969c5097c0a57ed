"""Running an importer on uploaded files (the API's side of ``tether import``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from tether.errors import InputError

if TYPE_CHECKING:
    from tether.importers import ImportResult

__all__ = ["FORMATS", "run_importer"]

FORMATS = ("openapi", "postman", "wsdl", "curl", "sample")
MAX_SOURCE_BYTES = 32 * 1024 * 1024


async def run_importer(
    format: str,
    *,
    file: UploadFile | None,
    command: str | None,
    request: UploadFile | None,
    response: UploadFile | None,
    fix: bool,
    mode: str,
    keep_duplicates: bool = False,
) -> ImportResult:
    """Import one uploaded description; importers are CPU-bound, so they run off the event loop.

    ``keep_duplicates`` is the CLI's ``--keep-duplicates``: Postman requests sharing a method
    and path stay one action each instead of being merged (the default, as on the CLI).
    """
    from tether import importers

    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    if format == "curl":
        if not command:
            raise InputError("format=curl needs the 'command' field")
        return await run_in_threadpool(importers.import_curl, command)
    if format == "sample":
        if request is None:
            raise InputError("format=sample needs a 'request' file (and optionally a 'response' file)")
        sample_request = await _read(request)
        sample_response = await _read(response) if response is not None else None
        return await run_in_threadpool(importers.import_sample, sample_request, sample_response)
    if file is None:
        raise InputError(f"format={format} needs a 'file'")
    content = await _read(file)
    filename = Path(file.filename or f"upload.{format}").name
    if format == "postman":
        return await run_in_threadpool(
            importers.import_postman, content, name=filename, merge_duplicates=not keep_duplicates
        )
    if mode not in ("soap-to-rest", "passthrough"):
        raise InputError(f"unknown mode {mode!r}; use 'soap-to-rest' or 'passthrough'")
    # OpenAPI and WSDL importers read from a path (OpenAPI bundles sibling files; an upload has none).
    with tempfile.TemporaryDirectory(prefix="tether-import-") as folder:
        source = Path(folder) / filename
        source.write_bytes(content)
        if format == "openapi":
            return await run_in_threadpool(importers.import_openapi, source, fix=fix)
        return await run_in_threadpool(importers.import_wsdl, source, name=filename, mode=mode)


async def _read(upload: UploadFile) -> bytes:
    content = await upload.read(MAX_SOURCE_BYTES + 1)
    if len(content) > MAX_SOURCE_BYTES:
        raise InputError(f"{upload.filename}: larger than {MAX_SOURCE_BYTES // 2**20} MiB")
    return content
