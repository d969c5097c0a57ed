"""Icon upload checks for the General tab: PNG or JPEG, square, at most 1 MB and 32-1024 pixels."""

from __future__ import annotations

import struct

from tether.errors import InputError

__all__ = ["MAX_ICON_BYTES", "check_icon"]

MAX_ICON_BYTES = 1_000_000
MIN_SIDE, MAX_SIDE = 32, 1024


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    if not data.startswith(b"\xff\xd8"):
        return None
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):  # start of frame: height then width
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width), int(height)
        index += 2 + length
    return None


def check_icon(data: bytes) -> str:
    """The icon's type (``png`` or ``jpeg``); :class:`InputError` saying what to change otherwise."""
    if len(data) > MAX_ICON_BYTES:
        raise InputError(f"The icon is {len(data):,} bytes; use one under {MAX_ICON_BYTES:,} bytes.")
    size, kind = _png_size(data), "png"
    if size is None:
        size, kind = _jpeg_size(data), "jpeg"
    if size is None:
        raise InputError("The icon must be a PNG or JPG image.")
    width, height = size
    if width != height:
        raise InputError(f"The icon must be square; this one is {width}x{height} pixels.")
    if not MIN_SIDE <= width <= MAX_SIDE:
        raise InputError(f"The icon must be {MIN_SIDE} to {MAX_SIDE} pixels wide; this one is {width}.")
    return kind
