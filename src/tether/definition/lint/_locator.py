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
# Past this many lookups a table of newline offsets beats counting newlines each time.
_COUNT_LINES_UP_TO = 16


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
        self._lookups = 0
        # Lenient JSON (comments...) can hide brackets outside strings: scan it the slow way.
        self._jump = not document.warnings
        self._keys: dict[tuple[str, str], int] = {}

    def line(self, pointer: str) -> int | None:
        """The 1-based line of ``pointer`` (or of its nearest existing ancestor)."""
        if not self._fallback:
            try:
                return self._line_at(self._offset(pointer))
            except (_CannotFollow, ValueError, IndexError):
                self._fallback = True
        return self._document.line_of(pointer)

    def _line_at(self, offset: int) -> int:
        self._lookups += 1
        if self._newlines is None and self._lookups <= _COUNT_LINES_UP_TO:
            return self._text.count("\n", 0, offset) + 1
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
        node = self._document.data
        for token in pointer[1:].split("/"):
            members = self._members.get(current)
            key = token.replace("~1", "/").replace("~0", "~")
            if (
                members is None
                and type(node) is dict
                and self._text[offset : offset + 1] == "{"
                and self._jump
            ):
                # Jump to the key instead of scanning (parsing) every sibling before it.
                if key not in node:
                    return offset  # missing key: point at the object that should hold it
                found = self._keys.get((current, key))
                if found is None:
                    found = self._find_key(offset, key, node[key])
                if found is not None:
                    self._keys[(current, key)] = found
                    node = node[key]
                    offset = found
                    current = f"{current}/{token}"
                    continue
            if members is None:
                members = self._members[current] = self._scan(offset)
            if isinstance(members, dict):
                found = members.get(key)
            else:
                found = members[int(key)] if key.isdigit() and int(key) < len(members) else None
            if found is None:
                return offset  # missing key: point at the object that should hold it
            offset = found
            current = f"{current}/{token}"
            node = _child(node, key)
        return offset

    def _find_key(self, start: int, key: str, value: object) -> int | None:
        """Offset of the value of ``key``, known to be a member of the object at ``start``.

        Finds each textual ``"key":`` after ``start`` with the C string search and counts
        the brackets in between: inside the object every nested member sits deeper than 1,
        so the first match at depth 1 is the member itself. Brackets inside strings
        (``/items/{id}``) are nearly always balanced, but an unbalanced one would skew the
        count, so the answer must also match the parsed ``value`` (``_looks_like``); when
        it does not, None sends the caller back to the exact scan.
        """
        text = self._text
        needle = json.dumps(key, ensure_ascii=False)
        position = start
        depth = 0
        while True:
            found = text.find(needle, position)
            if found < 0:
                return None  # written with escapes the needle does not use: scan instead
            span = text[position:found]
            depth += span.count("{") + span.count("[") - span.count("}") - span.count("]")
            after = self._skip_space(found + len(needle))
            if depth == 1 and text[after : after + 1] == ":":
                offset = self._skip_space(after + 1)
                return offset if self._looks_like(offset, value) else None
            position = found + len(needle)

    def _looks_like(self, offset: int, value: object) -> bool:
        """Whether the text at ``offset`` starts ``value``: a scalar equal to it, an object
        whose first key is ``value``'s first key, an array whose first item starts right."""
        text = self._text
        first = text[offset : offset + 1]
        if type(value) is dict:
            if first != "{":
                return False
            inner = self._skip_space(offset + 1)
            if not value:
                return text[inner : inner + 1] == "}"
            needle = json.dumps(next(iter(value)), ensure_ascii=False)
            return text.startswith(needle, inner)
        if type(value) is list:
            if first != "[":
                return False
            inner = self._skip_space(offset + 1)
            return text[inner : inner + 1] == "]" if not value else self._looks_like(inner, value[0])
        try:
            parsed, _ = self._decoder.raw_decode(text, offset)
        except ValueError:
            return False
        return bool(parsed == value and type(parsed) is type(value))

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


def _child(node: object, key: str) -> object:
    """The parsed value under ``key`` (None when the parsed data has no such member)."""
    if type(node) is dict:
        return node.get(key)
    if type(node) is list and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    return None
