"""The tunnel's wire: small versioned JSON text frames, and binary frames for body chunks.

Many calls share one WebSocket, each named by an integer ``id`` the server chooses. Either
side may be hostile (a stolen agent secret, a compromised server), so every frame received is
checked field by field (:func:`parse_frame`) and anything else is a :class:`ProtocolViolation`,
which closes the tunnel. Bodies never travel inside JSON: they stream as binary frames
``>IB`` (call id, last-chunk flag) + at most :data:`CHUNK` bytes.

Frames (``{"v": 1, "t": <type>, …}``):

    server ⇒ agent  welcome   {member}                                  after the agent authenticated
    server ⇒ agent  refused   {code, message}                           then the socket closes
    server ⇒ agent  request   {id, method, url, headers, timeout, credentials, body}
    server ⇒ agent  cancel    {id}                                      the caller gave up
    agent ⇒ server  response  {id, status, headers}                     then body chunks
    agent ⇒ server  error     {id, kind, message}                       instead of a response
    agent ⇒ server  health    {version, load, healthy}                  every few seconds
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = [
    "CHUNK",
    "ERROR_KINDS",
    "MAX_TEXT_FRAME",
    "PROTOCOL_VERSION",
    "ProtocolViolation",
    "encode_frame",
    "pack_chunk",
    "parse_frame",
    "unpack_chunk",
]

PROTOCOL_VERSION: Final = 1
CHUNK: Final = 64 * 1024
MAX_TEXT_FRAME: Final = 1024 * 1024
_CHUNK_HEADER: Final = struct.Struct(">IB")
_MAX_ID: Final = 2**32 - 1
_MAX_HEADERS: Final = 300
_MAX_TEXT: Final = 64 * 1024
# What went wrong on the agent's side of a call (the server maps each to one of its errors).
ERROR_KINDS: Final = frozenset(
    {"not-allowed", "connect", "timeout", "credentials", "bad-request", "upstream", "cancelled"}
)


class ProtocolViolation(ValueError):
    """A frame that is not what the protocol allows: the tunnel is closed."""


def encode_frame(frame_type: str, /, **fields: Any) -> str:
    """One text frame of type ``frame_type``."""
    return json.dumps({"v": PROTOCOL_VERSION, "t": frame_type, **fields}, separators=(",", ":"))


def pack_chunk(call_id: int, data: bytes, *, last: bool = False) -> bytes:
    """One binary body frame of call ``call_id``."""
    return _CHUNK_HEADER.pack(call_id, 1 if last else 0) + data


def unpack_chunk(frame: bytes) -> tuple[int, bool, bytes]:
    """``(call id, last, data)`` of a binary frame."""
    if len(frame) < _CHUNK_HEADER.size or len(frame) > _CHUNK_HEADER.size + CHUNK:
        raise ProtocolViolation(f"a body frame of {len(frame)} bytes is out of bounds")
    call_id, flag = _CHUNK_HEADER.unpack_from(frame)
    if flag not in (0, 1):
        raise ProtocolViolation("a body frame's flag must be 0 or 1")
    return call_id, flag == 1, frame[_CHUNK_HEADER.size :]


def _id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ID


def _text(limit: int = _MAX_TEXT) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and len(value) <= limit


def _headers(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= _MAX_HEADERS
        and all(
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(part, str) and len(part) <= 16 * 1024 for part in pair)
            for pair in value
        )
    )


def _credentials(value: Any) -> bool:
    if value is None:
        return True
    return (
        isinstance(value, dict)
        and len(value) <= 8
        and all(isinstance(k, str) and isinstance(v, str) and len(v) <= 16 * 1024 for k, v in value.items())
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 3600


def _status(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def _load(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1_000_000


_METHOD = _text(16)
_SCHEMAS: Final[Mapping[str, Mapping[str, Callable[[Any], bool]]]] = {
    "welcome": {"member": _text(64)},
    "refused": {"code": _text(64), "message": _text()},
    "request": {
        "id": _id,
        "method": _METHOD,
        "url": _text(64 * 1024),
        "headers": _headers,
        "timeout": _number,
        "credentials": _credentials,
        "body": lambda v: isinstance(v, bool),
    },
    "cancel": {"id": _id},
    "response": {"id": _id, "status": _status, "headers": _headers},
    "error": {"id": _id, "kind": lambda v: v in ERROR_KINDS, "message": _text()},
    "health": {"version": _text(32), "load": _load, "healthy": lambda v: isinstance(v, bool)},
}


def parse_frame(text: str | bytes, *, allowed: frozenset[str]) -> dict[str, Any]:
    """A text frame, checked: its version, its type (one of ``allowed``), every field's type and bounds."""
    if len(text) > MAX_TEXT_FRAME:
        raise ProtocolViolation("a text frame is larger than the protocol allows")
    try:
        frame = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolViolation("a text frame is not JSON") from exc
    if not isinstance(frame, dict):
        raise ProtocolViolation("a text frame must be a JSON object")
    if frame.get("v") != PROTOCOL_VERSION:
        raise ProtocolViolation(
            f"protocol version {frame.get('v')!r} is not {PROTOCOL_VERSION}: upgrade the older side"
        )
    kind = frame.get("t")
    if kind not in allowed or not isinstance(kind, str):
        raise ProtocolViolation(f"unexpected frame type {kind!r}")
    schema = _SCHEMAS[kind]
    extra = set(frame) - set(schema) - {"v", "t"}
    if extra:
        raise ProtocolViolation(f"a {kind!r} frame has unknown fields: {', '.join(sorted(extra))}")
    for name, valid in schema.items():
        if not valid(frame.get(name)):
            raise ProtocolViolation(f"a {kind!r} frame has a missing or invalid {name!r}")
    return frame
