"""Coercing literal values (defaults, enum members) to the type their schema declares.

Real specs write ``default: 'false'`` for a boolean or ``default: available`` for an array;
the repair is mechanical and keeps the author's intent, so ``--fix`` does it rather than
dropping the value.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FAILED", "coerce", "coerce_to_type"]

FAILED = object()
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def coerce(value: Any, schema: dict[str, Any]) -> Any:
    """``value`` converted to ``schema``'s type (and its items'), or ``FAILED``."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if value is None and "null" in kind:
            return None
        kind = kinds[0] if kinds else None
    if kind == "array":
        items = schema["items"] if isinstance(schema.get("items"), dict) else {}
        values = value if isinstance(value, list) else [value]
        out = [coerce(v, items) for v in values]
        return FAILED if any(v is FAILED for v in out) else out
    if not isinstance(kind, str):
        return FAILED if value is None else value
    result = coerce_to_type(value, kind)
    enum = schema.get("enum")
    if result is not FAILED and isinstance(enum, list) and enum and result not in enum:
        return FAILED
    return result


def coerce_to_type(value: Any, kind: str) -> Any:
    """``value`` as JSON type ``kind`` when the conversion loses nothing, else ``FAILED``."""
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        return True if text in _TRUE else False if text in _FALSE else FAILED
    if kind in ("integer", "number"):
        if isinstance(value, bool):
            return FAILED
        number: Any = value
        if isinstance(value, str):
            try:
                number = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                return FAILED
        if not isinstance(number, (int, float)):
            return FAILED
        if kind == "integer":
            return int(number) if float(number).is_integer() else FAILED
        return number
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        return FAILED
    if kind == "object":
        return value if isinstance(value, dict) else FAILED
    if kind == "array":
        return value if isinstance(value, list) else [value]
    if kind == "null":
        return None if value is None else FAILED
    return FAILED
