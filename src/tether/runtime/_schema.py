"""JSON Schema checks that tolerate what real connector schemas contain.

The corpus has ``type: int``, ``type: file``, ``required: true`` on properties, ECMAScript
regexes Python cannot compile, ``x-nullable`` and OpenAPI 3's ``nullable``, and references
to other files. A strict validator raises on those or refuses valid input; the runtime must
check arguments against the schema the author *meant*. So: unknown types accept anything,
malformed keywords are skipped, formats are not enforced (``date-no-tz``, ``html`` and
friends are hints), and bytes or file tuples count as strings (binary uploads).

Validators are built once per schema object (schemas are shared, read-only dicts in the IR).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema import validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

__all__ = ["SchemaChecker", "SchemaIssue"]

_TYPE_ALIASES = {
    "int": "integer",
    "long": "integer",
    "float": "number",
    "double": "number",
    "bool": "boolean",
}
_KNOWN_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}
MAX_CACHED_VALIDATORS = 4096


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One broken rule: where (a JSON pointer into the value), what is wrong, and what was expected."""

    pointer: str
    message: str
    expected: str


def _is_binary(instance: Any) -> bool:
    if isinstance(instance, bytes | bytearray | memoryview):
        return True
    if isinstance(instance, tuple) and len(instance) in (2, 3):  # (filename, content[, type])
        return isinstance(instance[1], bytes | bytearray | str) or hasattr(instance[1], "read")
    return hasattr(instance, "read")


def _type(validator: Any, types: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if instance is None and (schema.get("nullable") is True or schema.get("x-nullable") is True):
        return
    names = types if isinstance(types, list) else [types]
    wanted = [_TYPE_ALIASES.get(t, t) for t in names if isinstance(t, str)]
    if not wanted or any(t not in _KNOWN_TYPES for t in wanted):
        return  # `type: file` or a made-up type: the author's intent is unknown, accept
    if "string" in wanted and _is_binary(instance):
        return
    if not any(validator.is_type(instance, t) for t in wanted):
        shown = wanted[0] if len(wanted) == 1 else " or ".join(wanted)
        yield ValidationError(f"expected {shown}, got {_describe(instance)}")


def _required(
    validator: Any, required: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not isinstance(required, list) or not isinstance(instance, dict):
        return  # draft-3 style `required: true` on a property: not checkable here
    for name in required:
        if isinstance(name, str) and name not in instance:
            yield ValidationError(f"'{name}' is required")


def _pattern(
    validator: Any, pattern: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not isinstance(instance, str) or not isinstance(pattern, str):
        return
    try:
        if re.search(pattern, instance) is None:
            yield ValidationError(f"{instance!r} does not match {pattern!r}")
    except re.error:
        return  # an ECMAScript-only regex: skip rather than refuse valid input


def _guarded(check: Any) -> Any:
    def run(validator: Any, value: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
        try:
            yield from check(validator, value, instance, schema) or ()
        except (TypeError, ValueError, AttributeError, KeyError):
            return  # a malformed keyword value (`minimum: "5"`, `properties: []`): ignore it

    return run


def _no_ref(validator: Any, ref: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    return iter(())  # local refs are resolved by the compiler; external ones are never fetched


def _lenient(base: Any) -> Any:
    checks = {name: _guarded(fn) for name, fn in base.VALIDATORS.items()}
    checks.update(
        {"type": _type, "required": _required, "pattern": _pattern, "$ref": _no_ref, "format": _no_ref}
    )
    checks.pop("$dynamicRef", None)
    return validators.extend(base, checks)  # type: ignore[no-untyped-call]  # jsonschema stubs leave it untyped


_DRAFT4 = _lenient(jsonschema.Draft4Validator)
_DRAFT2020 = _lenient(jsonschema.Draft202012Validator)


class SchemaChecker:
    """Checks values against IR schemas; ``openapi31`` selects draft 2020-12 keywords."""

    def __init__(self, *, openapi31: bool = False) -> None:
        self._cls = _DRAFT2020 if openapi31 else _DRAFT4
        self._cache: OrderedDict[int, tuple[dict[str, Any], Validator]] = OrderedDict()

    def _validator(self, schema: dict[str, Any]) -> Validator:
        key = id(schema)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is schema:  # the schema is kept alive with it, so ids stay valid
            return hit[1]
        validator: Validator = self._cls(schema)
        self._cache[key] = (schema, validator)
        if len(self._cache) > MAX_CACHED_VALIDATORS:
            self._cache.popitem(last=False)
        return validator

    def issues(self, schema: dict[str, Any] | None, value: Any) -> list[SchemaIssue]:
        """Every way ``value`` breaks ``schema`` (empty when it conforms or there is no schema)."""
        if not schema:
            return []
        try:
            errors = list(self._validator(schema).iter_errors(value))
        except (jsonschema.exceptions.SchemaError, RecursionError, TypeError, ValueError):
            return []  # a schema too broken to apply: the linter reports it, the call goes on
        return [_issue(e) for e in errors]


def _issue(error: ValidationError) -> SchemaIssue:
    pointer = "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in error.absolute_path)
    expected = f"{error.validator}: {_short(error.validator_value)}"
    return SchemaIssue(pointer=pointer, message=error.message, expected=expected)


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value) if not isinstance(value, dict) else "a schema"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(instance: Any) -> str:
    if instance is None:
        return "null"
    if isinstance(instance, bool):
        return "boolean"
    if isinstance(instance, int | float):
        return f"number {instance!r}"
    if isinstance(instance, str):
        return f"string {_short(instance, 40)}"
    if isinstance(instance, list):
        return "array"
    if isinstance(instance, dict):
        return "object"
    return type(instance).__name__
