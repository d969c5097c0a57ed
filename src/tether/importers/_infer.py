"""JSON schemas inferred from example values, as Power Platform's "import from sample" does.

Shared by the cURL and sample importers. Objects list their properties (none required: one
example cannot say what is optional), arrays merge the schemas of all their items, strings
get a ``format`` when every example has the shape of one (date-time, date, uuid, email, uri),
and ``null`` says nothing about the type (``x-nullable`` on an otherwise empty schema).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["infer_schema", "parse_json", "scalar_type"]

Schema = dict[str, Any]

_INT32 = 2**31
_FORMATS = (
    (
        "date-time",
        re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$"),
    ),
    ("date", re.compile(r"^\d{4}-\d{2}-\d{2}$")),
    ("uuid", re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    ("email", re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")),
    ("uri", re.compile(r"^https?://[^\s]+$")),
)


def parse_json(text: bytes | str) -> tuple[bool, Any]:
    """``(True, value)`` when ``text`` is one JSON value, else ``(False, None)``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", errors="replace")
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def infer_schema(value: Any) -> Schema:
    """The schema of one example value."""
    if isinstance(value, dict):
        return {"type": "object", "properties": {str(k): infer_schema(v) for k, v in value.items()}}
    if isinstance(value, list):
        items: Schema | None = None
        for item in value:
            items = infer_schema(item) if items is None else _merge(items, infer_schema(item))
        return {"type": "array", "items": items if items is not None else {}}
    if value is None:
        return {"x-nullable": True}
    return scalar_type(value)


def scalar_type(value: Any) -> Schema:
    """The schema of a scalar: boolean, integer (int32/int64), number or string (with format)."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer", "format": "int32" if -_INT32 <= value < _INT32 else "int64"}
    if isinstance(value, float):
        return {"type": "number", "format": "float"}
    text = str(value)
    for name, pattern in _FORMATS:
        if pattern.match(text):
            return {"type": "string", "format": name}
    return {"type": "string"}


def _merge(left: Schema, right: Schema) -> Schema:
    """One schema describing values of both: properties are united, numbers widen."""
    if left == right:
        return left
    if left.get("x-nullable") and len(left) == 1:
        return {**right, "x-nullable": True}
    if right.get("x-nullable") and len(right) == 1:
        return {**left, "x-nullable": True}
    kinds = {left.get("type"), right.get("type")}
    if kinds == {"object"}:
        properties = dict(left.get("properties", {}))
        for key, schema in right.get("properties", {}).items():
            properties[key] = _merge(properties[key], schema) if key in properties else schema
        return {"type": "object", "properties": properties}
    if kinds == {"array"}:
        return {"type": "array", "items": _merge(left.get("items", {}), right.get("items", {}))}
    if kinds == {"integer"}:
        return {"type": "integer", "format": "int64"}
    if kinds <= {"integer", "number"}:
        return {"type": "number", "format": "float"}
    if kinds == {"string"}:
        return {"type": "string"}  # formats disagree: plain string
    return {}  # mixed kinds: any value
