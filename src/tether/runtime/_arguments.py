"""Checking a call's arguments against the operation, before anything is built or sent.

Arguments are keyed by parameter name; the body goes under ``body`` (or under the Swagger
body parameter's own name, which flows use). Defaults are filled the way Power Platform
fills them: for ``x-ms-visibility: internal`` parameters (hidden from the user, so the
definition's default is the value) and for required parameters with a default; inside an
object body, internal properties with defaults are filled too.

Every problem is collected and reported in ONE ``ArgumentError``: a flow author fixing a
call wants the whole list (unknown names, missing values, wrong types), not one per run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from tether.definition import Operation, Parameter
from tether.runtime._body import is_xml, select_media_type
from tether.runtime._errors import ArgumentError
from tether.runtime._schema import SchemaChecker

__all__ = ["BODY", "UNSET", "PreparedArguments", "prepare_arguments"]

BODY: Final = "body"
MAX_DEFAULT_DEPTH = 32


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset()


@dataclass(frozen=True)
class PreparedArguments:
    """Checked arguments with defaults filled: values by parameter, the body, its media type."""

    values: dict[str, Any] = field(default_factory=dict)
    body: Any = UNSET
    media_type: str | None = None


def body_keys(operation: Operation) -> set[str]:
    """The argument names that carry the body: its declared name, and ``body`` unless a parameter has it."""
    body = operation.request_body
    if body is None:
        return set()
    keys = {body.name} if body.name else set()
    if not any(p.name == BODY and p.location != "body" for p in operation.parameters):
        keys.add(BODY)
    return keys


def prepare_arguments(
    operation: Operation, arguments: Mapping[str, Any], checker: SchemaChecker
) -> PreparedArguments:
    """Fill defaults and check ``arguments``; ``ArgumentError`` lists every problem at once."""
    issues: list[dict[str, Any]] = []
    params = {p.name: p for p in operation.parameters if p.location != "body"}
    keys = body_keys(operation)
    body: Any = UNSET
    for name, value in arguments.items():
        if name in params:
            continue
        if name in keys:
            body = value
            continue
        expected = sorted(params) + sorted(keys)
        issues.append(
            _problem(name, "", "unknown argument", f"one of {expected}" if expected else "no arguments")
        )

    values: dict[str, Any] = {}
    for name, param in params.items():
        value = arguments.get(name, UNSET)
        if value is UNSET or (value is None and not param.required):
            if param.has_default and (param.required or param.visibility == "internal"):
                value = param.default
            elif param.required:
                hint = (
                    "definition gives no default for this internal parameter"
                    if param.visibility == "internal"
                    else "a value"
                )
                issues.append(
                    _problem(name, "", f"required {param.location} parameter is missing", hint, param)
                )
                continue
            else:
                continue
        value = _coerce_scalar(param, value)
        for issue in checker.issues(param.schema, value):
            issues.append(_problem(name, issue.pointer, issue.message, issue.expected, param))
        values[name] = value

    media_type = None
    request_body = operation.request_body
    if request_body is not None:
        media_type = select_media_type(request_body.content, values)
        schema = request_body.content.get(media_type) if media_type else None
        name = request_body.name or BODY
        if body is UNSET and isinstance(schema, dict) and "default" in schema:
            body = schema["default"]
        if body is UNSET:
            if request_body.required and not _form_from_parameters(operation):
                issues.append(_problem(name, "", "the request body is required", "a body", location="body"))
        elif media_type and is_xml(media_type):
            if isinstance(body, str | bytes):
                pass  # the schema describes the XML's shape; Tether does not parse the document to check it
            else:
                issues.append(
                    _problem(name, "", f"a {media_type} body must be given as an XML document (a string)",
                             "string", location="body")
                )  # fmt: skip
        else:
            body = fill_defaults(schema, body)
            for issue in checker.issues(schema, body):
                issues.append(_problem(name, issue.pointer, issue.message, issue.expected, location="body"))

    if issues:
        raise ArgumentError(_message(operation, issues), issues=issues)
    return PreparedArguments(values=values, body=body, media_type=media_type)


def _form_from_parameters(operation: Operation) -> bool:
    return any(p.location == "formData" for p in operation.parameters)


def _coerce_scalar(param: Parameter, value: Any) -> Any:
    """Text for a numeric or boolean URL/header/form parameter, as flow expressions produce it."""
    if not isinstance(value, str) or param.location == "body":
        return value
    enum = param.schema.get("enum")
    if isinstance(enum, list) and value in enum:
        return value  # the author listed the text itself (`enum: ["false", "true"]` on a boolean)
    kind = param.schema.get("type")
    try:
        if kind == "integer" and value.strip().lstrip("+-").isdigit():
            return int(value)
        if kind == "number":
            return float(value) if "." in value or "e" in value.lower() else int(value)
    except ValueError:
        return value
    if kind == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def fill_defaults(schema: Any, value: Any, depth: int = 0) -> Any:
    """``value`` with defaults of internal (or required) object properties filled in, copied not mutated."""
    if not isinstance(schema, dict) or not isinstance(value, dict) or depth > MAX_DEFAULT_DEPTH:
        return value
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return value
    required = schema["required"] if isinstance(schema.get("required"), list) else []
    out = dict(value)
    for name, prop in properties.items():
        if not isinstance(prop, dict):
            continue
        if name not in out:
            internal = str(prop.get("x-ms-visibility", "")).lower() == "internal"
            if "default" in prop and (internal or name in required):
                out[name] = prop["default"]
        elif isinstance(out[name], dict):
            out[name] = fill_defaults(prop, out[name], depth + 1)
    return out


def _problem(
    name: str,
    pointer: str,
    message: str,
    expected: str,
    param: Parameter | None = None,
    *,
    location: str | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "location": param.location if param else location,
        "pointer": f"/{name}{pointer}",
        "message": message,
        "expected": expected,
    }


def _message(operation: Operation, issues: list[dict[str, Any]]) -> str:
    count = len(issues)
    lines = [f"cannot call '{operation.operation_id}': {count} invalid argument{'s' if count > 1 else ''}"]
    for issue in issues:
        where = issue["pointer"].lstrip("/") or issue["name"]
        location = f" ({issue['location']})" if issue["location"] else ""
        lines.append(f"  - {where}{location}: {issue['message']} (expected {issue['expected']})")
    return "\n".join(lines)
