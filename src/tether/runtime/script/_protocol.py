"""The wire between the server and a script worker: length-prefixed JSON frames with a fixed schema.

Never pickle: a worker runs code its maker wrote, so everything it says is hostile input.
Each frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON (an object with
a ``type``); bodies travel as base64. :func:`parse_from_worker` checks every message the
server receives field by field and raises :class:`ProtocolViolation` for anything else, which
the pool treats as a crashed worker.

Messages:

    worker ⇒ server  {"type": "ready"}                                   once, locked down
    server ⇒ worker  {"type": "run", "source", "operation_id", "correlation_id", "request", "timeout"}
    worker ⇒ server  {"type": "send", "request"}                         the script called context.send
    server ⇒ worker  {"type": "response", "response"} | {"type": "send-failed", "message"}
    worker ⇒ server  {"type": "log", "level", "message"}
    worker ⇒ server  {"type": "done", "response"} | {"type": "error", "kind", "message", "line"}

This module is imported inside the sandbox too, so it uses the standard library only.
"""

from __future__ import annotations

import base64
import binascii
import json
import socket
import struct
from typing import Any

__all__ = [
    "ERROR_KINDS",
    "HEADER",
    "MAX_FRAME",
    "ProtocolViolation",
    "decode_frame",
    "encode_frame",
    "message_from_request",
    "message_from_response",
    "parse_from_worker",
    "read_frame",
]

HEADER = struct.Struct(">I")
# The largest frame either side accepts (a request or response body plus its JSON wrapping).
MAX_FRAME = 32 * 1024 * 1024
ERROR_KINDS = frozenset({"syntax", "invalid", "timeout", "forbidden", "memory", "failed"})
_MAX_TEXT = 64 * 1024  # a log line or an error message
_MAX_HEADERS = 200
_MAX_URL = 64 * 1024


class ProtocolViolation(ValueError):
    """A frame or message that is not what the protocol allows (the worker is not to be trusted)."""


def encode_frame(message: dict[str, Any], max_frame: int = MAX_FRAME) -> bytes:
    """``message`` as one frame; ``ProtocolViolation`` if it is larger than ``max_frame``."""
    data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(data) > max_frame:
        raise ProtocolViolation(
            f"a {message.get('type')!r} message of {len(data):,} bytes is over the "
            f"{max_frame:,}-byte frame limit"
        )
    return HEADER.pack(len(data)) + data


def decode_frame(data: bytes) -> dict[str, Any]:
    """The JSON object in a frame's payload, or ``ProtocolViolation``."""
    try:
        message = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolViolation(f"a frame is not JSON ({type(exc).__name__})") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolViolation("a frame is not a JSON object with a 'type'")
    return message


def read_frame(sock: socket.socket, max_frame: int = MAX_FRAME) -> dict[str, Any] | None:
    """The next message from a blocking ``sock`` (the worker's side), or None at end of stream."""
    header = _read_exactly(sock, HEADER.size)
    if header is None:
        return None
    (length,) = HEADER.unpack(header)
    if length > max_frame:
        raise ProtocolViolation(f"a frame of {length:,} bytes is over the {max_frame:,}-byte limit")
    payload = _read_exactly(sock, length)
    if payload is None:
        return None
    return decode_frame(payload)


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def message_from_request(method: str, url: str, headers: dict[str, str], content: bytes) -> dict[str, Any]:
    """A request as the protocol carries it."""
    return {"method": method, "url": url, "headers": headers, "content": base64.b64encode(content).decode()}


def message_from_response(status_code: int, headers: dict[str, str], content: bytes) -> dict[str, Any]:
    """A response as the protocol carries it."""
    return {"status_code": status_code, "headers": headers, "content": base64.b64encode(content).decode()}


def parse_from_worker(message: dict[str, Any]) -> tuple[Any, ...]:
    """A worker's message checked and unpacked: ``("send", method, url, headers, content)``,
    ``("log", level, text)``, ``("done", status, headers, content)``, ``("error", kind, text, line)``
    or ``("ready",)``. Anything else raises :class:`ProtocolViolation`."""
    kind = message["type"]
    if kind == "ready":
        _exact(message, {"type"})
        return ("ready",)
    if kind == "send":
        _exact(message, {"type", "request"})
        return ("send", *parse_request(message["request"]))
    if kind == "done":
        _exact(message, {"type", "response"})
        return ("done", *parse_response(message["response"]))
    if kind == "log":
        _exact(message, {"type", "level", "message"})
        level = _int(message["level"], "log level", 0, 100)
        return ("log", level, _text(message["message"], "log message", _MAX_TEXT))
    if kind == "error":
        _exact(message, {"type", "kind", "message", "line"})
        error_kind = message["kind"]
        if error_kind not in ERROR_KINDS:
            raise ProtocolViolation(f"unknown error kind {str(error_kind)[:40]!r}")
        line = message["line"]
        if line is not None:
            line = _int(line, "line", 0, 10_000_000)
        return ("error", error_kind, _text(message["message"], "error message", _MAX_TEXT), line)
    raise ProtocolViolation(f"unknown message type {kind[:40]!r}")


def parse_request(value: Any) -> tuple[str, str, dict[str, str], bytes]:
    """``(method, url, headers, content)`` of a request field, checked."""
    if not isinstance(value, dict):
        raise ProtocolViolation("'request' is not an object")
    _exact(value, {"method", "url", "headers", "content"})
    method = _text(value["method"], "method", 20)
    if not method.isalpha():
        raise ProtocolViolation("'method' is not an HTTP method")
    url = _text(value["url"], "url", _MAX_URL)
    return method, url, _headers(value["headers"]), _content(value["content"])


def parse_response(value: Any) -> tuple[int, dict[str, str], bytes]:
    """``(status_code, headers, content)`` of a response field, checked."""
    if not isinstance(value, dict):
        raise ProtocolViolation("'response' is not an object")
    _exact(value, {"status_code", "headers", "content"})
    status = _int(value["status_code"], "status_code", 100, 599)
    return status, _headers(value["headers"]), _content(value["content"])


def _exact(value: dict[str, Any], fields: set[str]) -> None:
    if set(value) != fields:
        raise ProtocolViolation(f"expected fields {sorted(fields)}, got {sorted(value)[:10]}")


def _int(value: Any, what: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ProtocolViolation(f"'{what}' is not an integer in {low}..{high}")
    return value


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolViolation(f"'{what}' is not a string of at most {limit:,} characters")
    return value


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > _MAX_HEADERS:
        raise ProtocolViolation(f"'headers' is not an object of at most {_MAX_HEADERS} strings")
    for name, item in value.items():
        if not isinstance(item, str) or len(name) > 1024 or len(item) > _MAX_URL:
            raise ProtocolViolation("a header is not a name and a string value")
    return value


def _content(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ProtocolViolation("'content' is not base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolViolation("'content' is not base64 text") from None
