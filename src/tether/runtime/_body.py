"""Request bodies: which media type to send, and how a value becomes bytes in it.

One value, several encodings: JSON for ``application/json`` (and ``text/json``,
``*+json``, OData variants), the text as given for XML (Tether never guesses an XML shape
from a dict; ``_arguments.py`` reports that), ``key=value&...`` for forms, parts for
``multipart/form-data`` (files as bytes or ``(filename, bytes[, content type])``), and raw
bytes for everything else (``application/octet-stream``, images...).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

__all__ = ["EncodedBody", "encode_body", "is_json", "is_xml", "media_base", "select_media_type"]

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
BINARY = "application/octet-stream"

FileTuple = tuple[str | None, Any] | tuple[str | None, Any, str | None]


@dataclass
class EncodedBody:
    """What ``httpx.Request`` takes: ``content`` (bytes or a stream) or multipart ``files``."""

    content: bytes | AsyncIterable[bytes] | None = None
    files: list[tuple[str, FileTuple]] = field(default_factory=list)
    content_type: str | None = None


def media_base(media_type: str) -> str:
    """``application/json; odata.metadata=minimal`` ⇒ ``application/json``."""
    return media_type.split(";", 1)[0].strip().lower()


def is_json(media_type: str) -> bool:
    base = media_base(media_type)
    return (
        base in ("application/json", "text/json", "*/*") or base.endswith("+json") or base.endswith("/json")
    )


def is_xml(media_type: str) -> bool:
    base = media_base(media_type)
    return base in ("application/xml", "text/xml") or base.endswith("+xml")


def select_media_type(content: Mapping[str, Any], values: Mapping[str, Any]) -> str | None:
    """The declared media type to send: the ``Content-Type`` argument's if it names one, else the first."""
    if not content:
        return None
    chosen = next((v for k, v in values.items() if k.lower() == "content-type" and isinstance(v, str)), None)
    if chosen:
        for media_type in content:
            if media_base(media_type) == media_base(chosen):
                return media_type
    return next(iter(content))


def encode_body(media_type: str, body: Any) -> EncodedBody:
    """Encode ``body`` for ``media_type`` (bytes pass through unchanged whatever the type)."""
    base = media_base(media_type)
    if base == MULTIPART:
        if isinstance(body, Mapping):
            return EncodedBody(files=_parts(body))
        return _raw(body, media_type)
    if isinstance(body, bytes | bytearray | memoryview):
        return EncodedBody(content=bytes(body), content_type=media_type)
    if hasattr(body, "read"):
        return EncodedBody(content=_read(body), content_type=media_type)
    if isinstance(body, AsyncIterable):
        return EncodedBody(content=body, content_type=media_type)
    if base == FORM:
        if isinstance(body, Mapping):
            return EncodedBody(content=urlencode(_form_pairs(body)).encode(), content_type=media_type)
        return _raw(body, media_type)
    if is_json(media_type) or (not isinstance(body, str) and not base.startswith("text/")):
        return EncodedBody(content=json_bytes(body), content_type=media_type)
    return _raw(body, media_type)


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, as APIs expect (``ensure_ascii`` off: smaller, and every API reads UTF-8).

    Bytes inside a JSON body (a ``format: byte``/``binary`` property) go as base64 text, the
    way Power Platform passes file content in JSON.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} cannot be sent in a JSON body")


def text_of(value: Any) -> str:
    """A scalar as it goes on the wire: JSON's ``true``/``false``/``null``, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _raw(body: Any, media_type: str) -> EncodedBody:
    if isinstance(body, bytes):
        return EncodedBody(content=body, content_type=media_type)
    return EncodedBody(content=text_of(body).encode(), content_type=media_type)


def _read(file: Any) -> bytes:
    data = file.read()
    return data.encode() if isinstance(data, str) else bytes(data)


def _form_pairs(form: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in form.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, text_of(item)))
    return pairs


def _parts(form: Mapping[str, Any]) -> list[tuple[str, FileTuple]]:
    """Multipart parts: files keep their name and type, other fields go as text parts."""
    parts: list[tuple[str, FileTuple]] = []
    for name, value in form.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) and not _is_file(value) else [value]:
            if isinstance(item, tuple) and len(item) in (2, 3):
                filename, content = item[0], item[1]
                kind = item[2] if len(item) == 3 else BINARY
                parts.append((name, (filename or name, _file_content(content), kind)))
            elif isinstance(item, bytes | bytearray) or hasattr(item, "read"):
                parts.append((name, (name, _file_content(item), BINARY)))
            else:
                parts.append((name, (None, text_of(item))))
    return parts


def _is_file(value: Any) -> bool:
    return isinstance(value, bytes | bytearray | tuple) or hasattr(value, "read")


def _file_content(content: Any) -> bytes:
    if hasattr(content, "read"):
        return _read(content)
    return content.encode() if isinstance(content, str) else bytes(content)
