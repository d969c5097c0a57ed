"""Turning an upstream response into a result body, without holding too much in memory.

Bodies are read as a stream. Up to ``max_buffered_bytes`` they are buffered and parsed by
content type: JSON ⇒ Python values, XML and text ⇒ ``str`` (Tether does not guess a JSON
shape for XML), anything else ⇒ ``bytes``. A larger body (or one announced larger by
``Content-Length``) is handed over as a ``StreamedBody`` that the caller iterates and
closes, so a 2 GB download costs a chunk of memory, not 2 GB.

The declared response schema, when there is one, is checked and its findings become
*warnings*: an API that returns more (or less) than its definition says is common and
should not fail a flow, but the author should hear about it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tether.definition import Operation
from tether.runtime._body import is_json, is_xml, media_base
from tether.runtime._redact import Redactor
from tether.runtime._schema import SchemaChecker
from tether.runtime._transport import translate_error

__all__ = ["DEFAULT_MAX_BUFFERED_BYTES", "StreamedBody", "read_body", "response_schema", "schema_warnings"]

DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024
MAX_SCHEMA_WARNINGS = 20


class StreamedBody:
    """A response body too large to buffer: iterate it once (``async for chunk in body``), then close it.

    ``aread()`` collects it anyway (the caller decides that the memory is fine).
    """

    def __init__(self, response: httpx.Response, prefix: list[bytes], rest: AsyncIterator[bytes]) -> None:
        self.response = response
        self.content_type = response.headers.get("content-type", "")
        self.length = _content_length(response)
        self._prefix = prefix
        self._rest = rest

    def __repr__(self) -> str:
        return f"StreamedBody(content_type={self.content_type!r}, length={self.length})"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        prefix, self._prefix = self._prefix, []
        for chunk in prefix:
            yield chunk
        try:
            async for chunk in self._rest:
                yield chunk
        except httpx.HTTPError as exc:
            raise translate_error(exc, self.response.request, Redactor()) from exc
        finally:
            await self.aclose()

    async def aread(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        await self.response.aclose()


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


async def read_body(
    response: httpx.Response, *, max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES, method: str = "GET"
) -> tuple[Any, list[str]]:
    """The parsed body (or a ``StreamedBody``) and any warnings about it."""
    if method.upper() == "HEAD" or response.status_code in (204, 304):
        await response.aclose()
        return None, []
    if _already_read(response):
        return parse_body(response.content, response.headers.get("content-type", ""))
    length = _content_length(response)
    if length is not None and length > max_buffered_bytes:
        return StreamedBody(response, [], response.aiter_bytes()), []
    chunks: list[bytes] = []
    size = 0
    stream = response.aiter_bytes()
    try:
        async for chunk in stream:
            chunks.append(chunk)
            size += len(chunk)
            if size > max_buffered_bytes:
                note = f"the body is larger than {max_buffered_bytes} bytes: returned as a stream, not parsed"
                return StreamedBody(response, chunks, stream), [note]
    except httpx.HTTPError as exc:  # a body cut off or too slow: no httpx exception leaves the runtime
        await response.aclose()
        raise translate_error(exc, response.request, Redactor()) from exc
    await response.aclose()
    return parse_body(b"".join(chunks), response.headers.get("content-type", ""))


def _already_read(response: httpx.Response) -> bool:
    try:
        response.content  # noqa: B018  # a policy or custom code may have read it already
    except httpx.ResponseNotRead:
        return False
    return True


def parse_body(content: bytes, content_type: str) -> tuple[Any, list[str]]:
    """Decode ``content`` by its content type (see the module docstring)."""
    if not content:
        return None, []
    base = media_base(content_type) if content_type else ""
    if base and is_json(base) and base != "*/*":
        try:
            return json.loads(content), []
        except (ValueError, UnicodeDecodeError):
            return _text(content, content_type), [f"the body is declared {base} but is not valid JSON"]
    if base and (is_xml(base) or base.startswith("text/") or base in ("application/javascript",)):
        return _text(content, content_type), []
    if not base:
        try:
            return json.loads(content), []
        except (ValueError, UnicodeDecodeError):
            pass
    return content, []


def _text(content: bytes, content_type: str) -> str:
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return content.decode(charset, "replace")
    except LookupError:
        return content.decode("utf-8", "replace")


def response_schema(operation: Operation, status: int, content_type: str) -> dict[str, Any] | None:
    """The declared body schema for ``status`` (exact, ``2XX``, then ``default``) and content type."""
    declared = (
        operation.responses.get(str(status))
        or operation.responses.get(f"{status // 100}XX")
        or operation.responses.get(f"{status // 100}xx")
        or operation.responses.get("default")
    )
    if declared is None or not declared.content:
        return None
    base = media_base(content_type) if content_type else ""
    for media_type, schema in declared.content.items():
        if media_base(media_type) == base:
            return schema
    return declared.schema


def schema_warnings(checker: SchemaChecker, schema: dict[str, Any] | None, body: Any) -> list[str]:
    """The schema check of a parsed body, as warning lines (capped: one broken array is one story)."""
    if schema is None or isinstance(body, StreamedBody | bytes):
        return []
    issues = checker.issues(schema, body)
    lines = [f"response body{i.pointer or ''}: {i.message}" for i in issues[:MAX_SCHEMA_WARNINGS]]
    if len(issues) > MAX_SCHEMA_WARNINGS:
        lines.append(f"... and {len(issues) - MAX_SCHEMA_WARNINGS} more differences from the response schema")
    return lines
