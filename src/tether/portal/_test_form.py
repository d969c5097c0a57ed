"""The Test tab's form: fields built from an operation's parameters, and the arguments read back.

Scalar parameters become inputs (enums as selects, booleans as checkboxes, ``x-ms-visibility:
internal`` ones left out, as Power Platform hides them); a JSON body becomes one input per scalar
leaf of its schema (arrays of objects as their first item), with a raw-JSON box for anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tether.definition import NO_DEFAULT, Operation
from tether.errors import InputError

__all__ = ["TestField", "arguments_from", "fields_for"]

MAX_DEPTH = 5
MAX_FIELDS = 60


@dataclass(frozen=True)
class TestField:
    """One input: ``key`` is its form name (``p.<param>`` or ``b.<dotted.body.path>``)."""

    key: str
    label: str
    kind: str  # string, number, integer, boolean, file, enum
    required: bool = False
    default: str = ""
    description: str = ""
    options: tuple[str, ...] = field(default_factory=tuple)
    advanced: bool = False


def _kind(schema: dict[str, Any]) -> str:
    if schema.get("enum"):
        return "enum"
    kind = schema.get("type")
    if kind == "file" or schema.get("format") == "binary":
        return "file"
    return str(kind) if kind in ("number", "integer", "boolean") else "string"


def _field(
    key: str,
    label: str,
    schema: dict[str, Any],
    *,
    required: bool,
    description: str = "",
    visibility: str | None = None,
    default: Any = NO_DEFAULT,
) -> TestField:
    if default is NO_DEFAULT:
        default = schema.get("default", "")
    return TestField(
        key=key,
        label=label,
        kind=_kind(schema),
        required=required,
        default=""
        if default is None
        else str(default).lower()
        if isinstance(default, bool)
        else str(default),
        description=description or str(schema.get("description") or ""),
        options=tuple(str(v) for v in schema.get("enum") or ()),
        advanced=visibility == "advanced",
    )


def _leaves(
    schema: dict[str, Any], path: list[str], required: bool, out: list[TestField], depth: int
) -> None:
    if len(out) >= MAX_FIELDS or depth > MAX_DEPTH:
        return
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        needed = set(schema.get("required") or [])
        for name, child in (schema.get("properties") or {}).items():
            if isinstance(child, dict) and child.get("x-ms-visibility") != "internal":
                _leaves(child, [*path, str(name)], required and name in needed, out, depth + 1)
        return
    if kind == "array" and isinstance(schema.get("items"), dict):
        items = schema["items"]
        if items.get("type") == "object" or "properties" in items:
            _leaves(items, [*path, "0"], required, out, depth + 1)
            return
    label = " / ".join(p if p != "0" else "item" for p in path) or "body"
    summary = schema.get("x-ms-summary")
    out.append(
        _field(
            "b." + ".".join(path),
            str(summary or label),
            schema,
            required=required,
            visibility=schema.get("x-ms-visibility"),
        )
    )


def fields_for(operation: Operation) -> list[TestField]:
    """The form for ``operation``: parameters first, then the body's leaves."""
    found = []
    for parameter in operation.parameters:
        if parameter.visibility == "internal" or parameter.location == "cookie":
            continue
        found.append(
            _field(
                "p." + parameter.name,
                parameter.summary or parameter.name,
                parameter.schema,
                required=parameter.required,
                description=parameter.description or "",
                visibility=parameter.visibility,
                default=parameter.default,
            )
        )
    body = operation.request_body
    schema = body.schema if body is not None else None
    if isinstance(schema, dict):
        _leaves(
            schema.get("schema", schema) if "schema" in schema else schema,
            [],
            body.required if body else False,
            found,
            0,
        )
    return found


def _convert(value: str, kind: str, label: str) -> Any:
    if kind == "integer":
        try:
            return int(value)
        except ValueError as exc:
            raise InputError(f"{label}: enter a whole number.") from exc
    if kind == "number":
        try:
            return float(value)
        except ValueError as exc:
            raise InputError(f"{label}: enter a number.") from exc
    if kind == "boolean":
        return value in ("true", "on", "1")
    return value


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    node: Any = target
    for index, part in enumerate(path):
        last = index == len(path) - 1
        following = path[index + 1] if not last else None
        if isinstance(node, list):
            position = int(part)
            while len(node) <= position:
                node.append([] if following == "0" else {})
            if last:
                node[position] = value
            else:
                node = node[position]
            continue
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, [] if following == "0" else {})


def arguments_from(operation: Operation, form: dict[str, str], raw_body: str = "") -> dict[str, Any]:
    """The invoke arguments (by parameter name, the body under its name) from the submitted form."""
    arguments: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for spec in fields_for(operation):
        value = form.get(spec.key, "")
        if value == "" and spec.kind != "boolean":
            continue
        converted = _convert(value, spec.kind, spec.label)
        if spec.key.startswith("p."):
            arguments[spec.key[2:]] = converted
        else:
            _put(body, spec.key[2:].split("."), converted)
    name = (operation.request_body.name if operation.request_body else None) or "body"
    if raw_body.strip():
        try:
            arguments[name] = json.loads(raw_body)
        except ValueError as exc:
            raise InputError(f"Raw body: not valid JSON ({exc.args[0]}).") from exc
    elif body:
        arguments[name] = body.get("", body) if list(body) == [""] else body
    return arguments
