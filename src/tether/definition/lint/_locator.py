"""Fast JSON pointer → line lookup for lint findings.

``Document.line_of`` builds a full source map (every pointer in the file) through
libyaml's event stream: simple and exact, but about 0.13 s per MB, which would dominate
linting a large definition that has only a handful of findings. This locator walks only
the containers on the way to each pointer, skipping siblings with the C JSON scanner, and
remembers what it walked, so the first lookup costs at most a couple of parses and later
ones almost nothing. Anything it cannot follow (YAML, JSON with comments) falls back to
``Document.line_of``, which stays the reference behaviour.
"""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]

from tether.definition._document import Document

__all__ = ["Locator"]

_SPACE = re.compile(r"[ \t\n\r]*")
_NEWLINE = re.compile("\n")


class _CannotFollow(Exception):
    """The text is not strict JSON where the locator looked; use the document's own map."""


class Locator:
    """Answers ``line(pointer)`` for one document, caching the containers it scanned."""

    def __init__(self, document: Document) -> None:
        self._document = document
        self._text = document.text
        self._fallback = document.format != "json"
        self._decoder = json.JSONDecoder(strict=False)
        # pointer of a container -> offsets of its members' values (dict by key, list by index)
        self._members: dict[str, dict[str, int] | list[int]] = {}
        self._newlines: list[int] | None = None

    def line(self, pointer: str) -> int | None:
        """The 1-based line of ``pointer`` (or of its nearest existing ancestor)."""
        if not self._fallback:
            try:
                return self._line_at(self._offset(pointer))
            except (_CannotFollow, ValueError, IndexError):
                self._fallback = True
        return self._document.line_of(pointer)

    def _line_at(self, offset: int) -> int:
        if self._newlines is None:
            self._newlines = [m.start() for m in _NEWLINE.finditer(self._text)]
        return bisect.bisect_left(self._newlines, offset) + 1

    def _offset(self, pointer: str) -> int:
        text = self._text
        offset = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
        if not pointer:
            return offset
        if not pointer.startswith("/"):
            raise _CannotFollow(pointer)
        current = ""
        for token in pointer[1:].split("/"):
            members = self._members.get(current)
            if members is None:
                members = self._members[current] = self._scan(offset)
            key = token.replace("~1", "/").replace("~0", "~")
            if isinstance(members, dict):
                found = members.get(key)
            else:
                found = members[int(key)] if key.isdigit() and int(key) < len(members) else None
            if found is None:
                return offset  # missing key: point at the object that should hold it
            offset = found
            current = f"{current}/{token}"
        return offset

    def _scan(self, start: int) -> dict[str, int] | list[int]:
        """Offsets of the member values of the container starting at ``start``."""
        text = self._text
        opening = text[start : start + 1]
        if opening == "{":
            members: dict[str, int] = {}
            index = self._skip_space(start + 1)
            if text[index] == "}":
                return members
            while True:
                if text[index] != '"':
                    raise _CannotFollow(index)
                key, index = scanstring(text, index + 1, False)
                index = self._skip_space(index)
                if text[index] != ":":
                    raise _CannotFollow(index)
                index = self._skip_space(index + 1)
                members[key] = index  # like json.loads, the last duplicate key wins
                index = self._skip_value(index)
                if text[index] == "}":
                    return members
                if text[index] != ",":
                    raise _CannotFollow(index)
                index = self._skip_space(index + 1)
        if opening == "[":
            items: list[int] = []
            index = self._skip_space(start + 1)
            if text[index] == "]":
                return items
            while True:
                items.append(index)
                index = self._skip_value(index)
                if text[index] == "]":
                    return items
                if text[index] != ",":
                    raise _CannotFollow(index)
                index = self._skip_space(index + 1)
        return {}

    def _skip_space(self, index: int) -> int:
        return _SPACE.match(self._text, index).end()  # type: ignore[union-attr]

    def _skip_value(self, index: int) -> int:
        _, end = self._decoder.raw_decode(self._text, index)
        return self._skip_space(end)
