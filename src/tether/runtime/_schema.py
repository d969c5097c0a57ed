"""JSON Schema checks that tolerate what real connector schemas contain.

The corpus has ``type: int``, ``type: file``, ``required: true`` on properties, ECMAScript
regexes Python cannot compile, ``x-nullable`` and OpenAPI 3's ``nullable``, and references
to other files. A strict validator raises on those or refuses valid input; the runtime must
check arguments against the schema the author *meant*. So: unknown types accept anything,
malformed keywords are skipped, formats are not enforced (``date-no-tz``, ``html`` and
friends are hints), and bytes or file tuples count as strings (binary uploads).

Validators are built once per schema object (schemas are shared, read-only dicts in the IR).
Most values conform, so each schema that a strict validator accepts also gets a compiled
jsonschema-rs validator that answers "conforms" in a fraction of the time. Everything that
validator accepts, the lenient one accepts too (the lenient rules only ever accept more), except
regexes (ECMAScript there, Python here) and references (resolved there, skipped here): a schema
with either keyword never gets one. A value it does not accept takes the lenient road, which
says what is wrong, or that nothing is.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema_rs
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
# Keywords whose strict meaning differs from the lenient one (see the module docstring).
_NOT_STRICT = frozenset({"pattern", "patternProperties", "$ref", "$dynamicRef", "$recursiveRef"})
_MAX_STRICT_DEPTH = 64
FastCheck = Callable[[Any], bool]


def _strict_fits(schema: Any, path: tuple[int, ...] = ()) -> bool:
    """Whether ``schema`` has none of ``_NOT_STRICT`` anywhere (property names count: cautious)
    and no cycle (the compiler may resolve a recursive schema into one; it cannot be handed on)."""
    if isinstance(schema, dict | list):
        if id(schema) in path or len(path) > _MAX_STRICT_DEPTH:
            return False
        path = (*path, id(schema))
        if isinstance(schema, list):
            return all(_strict_fits(item, path) for item in schema)
        return all(key not in _NOT_STRICT and _strict_fits(value, path) for key, value in schema.items())
    return True


def _fast_check(schema: dict[str, Any], openapi31: bool) -> FastCheck | None:
    """A compiled strict check of ``schema``, when its "valid" implies the lenient one's (else None)."""
    if not _strict_fits(schema):
        return None
    strict = jsonschema_rs.Draft202012Validator if openapi31 else jsonschema_rs.Draft4Validator
    try:
        # offline: nothing is ever fetched; formats are hints here, as in the lenient checker.
        return strict(schema, validate_formats=False, offline=True).is_valid
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError, TypeError):
        return None  # a schema only the lenient rules can apply (``type: file``, ``required: true``)


class SchemaChecker:
    """Checks values against IR schemas; ``openapi31`` selects draft 2020-12 keywords.

    ``fast=False`` leaves out the compiled strict check (tests compare the two roads).
    """

    def __init__(self, *, openapi31: bool = False, fast: bool = True) -> None:
        self._openapi31 = openapi31
        self._fast = fast
        self._cls = _DRAFT2020 if openapi31 else _DRAFT4
        self._cache: OrderedDict[int, tuple[dict[str, Any], Validator, FastCheck | None]] = OrderedDict()

    def _validators(self, schema: dict[str, Any]) -> tuple[dict[str, Any], Validator, FastCheck | None]:
        key = id(schema)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is schema:  # the schema is kept alive with it, so ids stay valid
            return hit
        made = (schema, self._cls(schema), _fast_check(schema, self._openapi31) if self._fast else None)
        self._cache[key] = made
        if len(self._cache) > MAX_CACHED_VALIDATORS:
            self._cache.popitem(last=False)
        return made

    def issues(self, schema: dict[str, Any] | None, value: Any) -> list[SchemaIssue]:
        """Every way ``value`` breaks ``schema`` (empty when it conforms or there is no schema)."""
        if not schema:
            return []
        _schema, validator, fast = self._validators(schema)
        if fast is not None:
            try:
                if fast(value):
                    return []
            except (ValueError, TypeError, OverflowError):
                pass  # bytes, file tuples and other non-JSON values: the lenient rules know them
        try:
            errors = list(validator.iter_errors(value))
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
