"""Arguments for any operation: x-ms-test-value, then the default, then a value made from the schema.

Used by the corpus dry run, which must call every operation of every connector without a
human writing arguments for 16,000 operations.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from tether.definition import NO_DEFAULT, Operation, Parameter
from tether.runtime._arguments import body_keys

MAX_DEPTH = 6
_STRINGS = {
    "date-time": "2024-01-02T03:04:05Z",
    "date": "2024-01-02",
    "date-no-tz": "2024-01-02T03:04:05",
    "time": "03:04:05",
    "email": "ann@example.com",
    "uri": "https://example.com/x",
    "url": "https://example.com/x",
    "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "guid": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "byte": "dGV0aGVy",
    "int32": "1",
    "int64": "1",
}


def from_schema(schema: Any, depth: int = 0, *, file_field: bool = False, plain: bool = False) -> Any:
    """A small value satisfying ``schema``; ``plain`` ignores the author's test values and defaults."""
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return "tether"
    if not plain and "x-ms-test-value" in schema and not isinstance(schema["x-ms-test-value"], dict):
        return schema["x-ms-test-value"]
    if not plain and "default" in schema:
        return schema["default"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key] and "type" not in schema:
            if key == "allOf":
                merged: dict[str, Any] = {}
                for part in schema[key]:
                    value = from_schema(part, depth + 1, plain=plain)
                    if isinstance(value, dict):
                        merged.update(value)
                return merged
            return from_schema(schema[key][0], depth + 1, plain=plain)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind in ("integer", "int", "number"):
        low = schema.get("minimum")
        high = schema.get("maximum")
        value = low if isinstance(low, int | float) and not isinstance(low, bool) else 1
        if isinstance(high, int | float) and not isinstance(high, bool) and value > high:
            value = high
        if schema.get("exclusiveMinimum") is True and value == low:
            value += 1
        return int(value) if kind != "number" or float(value).is_integer() else value
    if kind == "boolean":
        return True
    if kind == "file" or schema.get("format") == "binary":
        return ("file.bin", b"tether", "application/octet-stream") if file_field else b"tether"
    if kind == "array":
        count = max(1, schema.get("minItems", 1) if isinstance(schema.get("minItems"), int) else 1)
        return [from_schema(schema.get("items"), depth + 1, plain=plain) for _ in range(count)]
    if kind == "object":
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = schema.get("required") if isinstance(schema.get("required"), list) else []
        value = {
            name: from_schema(prop, depth + 1, file_field=file_field, plain=plain)
            for name, prop in properties.items()
            if name in required or (not plain and isinstance(prop, dict) and "x-ms-test-value" in prop)
        }
        for name in required:  # required but not described: any value will do
            if isinstance(name, str) and name not in value:
                value[name] = "tether"
        return value
    text = _STRINGS.get(str(schema.get("format", "")).lower(), "tether")
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and not _matches(pattern, text):
        text = from_pattern(pattern) or text
    min_length = schema.get("minLength")
    if isinstance(min_length, int) and len(text) < min_length:
        text = text + "x" * (min_length - len(text))
    max_length = schema.get("maxLength")
    if isinstance(max_length, int) and len(text) > max_length:
        text = text[: max(max_length, 1)]
    return text


def parameter_value(param: Parameter, *, plain: bool = False) -> Any:
    if not plain and param.test_value is not NO_DEFAULT:
        return param.test_value
    if not plain and param.has_default:
        return param.default
    return from_schema(param.schema, file_field=param.location == "formData", plain=plain)


def arguments_for(operation: Operation, *, plain: bool = False) -> dict[str, Any]:
    """Required parameters (and optional ones with a test value) plus a body if there is one.

    ``plain`` makes every value from the schema alone: the second try when an author's test
    value or default does not pass the author's own schema.
    """
    arguments: dict[str, Any] = {}
    for param in operation.parameters:
        if param.location == "body":
            continue
        if param.required or param.test_value is not NO_DEFAULT:
            arguments[param.name] = parameter_value(param, plain=plain)
    body = operation.request_body
    if body is not None and not any(p.location == "formData" for p in operation.parameters):
        keys = body_keys(operation)
        schema = body.schema
        if body.required or (isinstance(schema, dict) and schema.get("required")):
            arguments[body.name if body.name in keys else "body"] = from_schema(schema, plain=plain)
    return arguments


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return True


def from_pattern(pattern: str) -> str | None:
    """A short string matching ``pattern`` (None when Python cannot read the regex)."""
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError):
        return None
    text = _emit(parsed)
    return text if _matches(pattern, text) else None


def _emit(items: Any) -> str:
    out = []
    for op, arg in items:
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op is sre_constants.NOT_LITERAL:
            out.append("a" if arg != ord("a") else "b")
        elif op is sre_constants.ANY:
            out.append("a")
        elif op is sre_constants.IN:
            out.append(_from_class(arg))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            low, _high, sub = arg
            out.append(_emit(sub) * max(low, 1 if low == 0 and _high != 0 else low))
        elif op is sre_constants.SUBPATTERN:
            out.append(_emit(arg[-1]))
        elif op is sre_constants.BRANCH:
            out.append(_emit(arg[1][0]))
        elif op is sre_constants.ATOMIC_GROUP:
            out.append(_emit(arg))
    return "".join(out)


def _from_class(items: Any) -> str:
    negate = any(op is sre_constants.NEGATE for op, _ in items)
    for op, arg in items:
        if negate:
            return "a" if not any(o is sre_constants.LITERAL and a == ord("a") for o, a in items) else "b"
        if op is sre_constants.LITERAL:
            return chr(arg)
        if op is sre_constants.RANGE:
            return chr(arg[0])
        if op is sre_constants.CATEGORY:
            return {"CATEGORY_DIGIT": "1", "CATEGORY_SPACE": " "}.get(str(arg), "a")
    return "a"
