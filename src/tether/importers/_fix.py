"""``--fix``: mechanical repairs that make a real-world spec pass openapi-spec-validator.

Each repair is driven by one located problem (see ``_validate``), changes as little as it
can, and is reported as a ``fix`` item; the loop validates again after each round, because
openapi-spec-validator stops looking inside a schema at its first error. It stops when the
document is clean, when a round repairs nothing, or after ``MAX_ROUNDS``; what is left is
reported as not fixable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.validators import validator_for
from openapi_spec_validator.schemas import schema_v2, schema_v30, schema_v31
from openapi_spec_validator.validation.exceptions import (
    DuplicateOperationIDError,
    ExtraParametersError,
    ParameterDuplicateError,
    UnresolvableParameterError,
)

from tether.importers._coerce import FAILED, coerce, coerce_to_type
from tether.importers._fix_parameters import fix_parameters
from tether.importers._validate import Problem, follow_ref, is_missing, resolve, spec_problems, spec_version

__all__ = ["MAX_ROUNDS", "fix_document"]

MAX_ROUNDS = 25
_Log = Callable[[str, str], None]
_PATH_PARAMETER = re.compile(r"Path parameter '([^']+)' for '([^']+)' operation in '([^']+)'")
# Keys that say what a value *is*: moving them to ``x-`` changes its meaning (or crashes the
# validator, as a parameter without ``in`` did); a problem on them is reported, not "fixed".
_KEPT = frozenset({"in", "name", "type", "$ref"})
_BOUNDS = {"exclusiveMinimum": "minimum", "exclusiveMaximum": "maximum"}
_TYPE_SYNONYMS = {"int": "integer", "bool": "boolean", "float": "number", "double": "number", "str": "string"}
# Values for required keys that a document left out, by the key's name.
_REQUIRED_DEFAULTS: dict[str, Any] = {
    "description": "",
    "title": "API",
    "version": "1.0.0",
    "paths": {},
    "responses": {"default": {"description": "Default response"}},
}


def fix_document(data: dict[str, Any], log: _Log) -> list[Problem]:
    """Repair ``data`` in place; ``log(pointer, message)`` records each fix. Returns what is left."""
    fix_parameters(data, log)
    problems = spec_problems(data)
    for _ in range(MAX_ROUNDS):
        if not problems:
            break
        changed = False
        if any(p.origin == "document" for p in problems):
            changed |= _fix_document_schema(data, log)
        done: set[str] = set()
        for problem in problems:
            # One value can break several keywords; after its first repair, validate again.
            if problem.origin == "document" or problem.pointer in done:
                continue
            done.add(problem.pointer)
            try:
                changed |= _fix(data, problem, log)
            except (KeyError, IndexError, TypeError, ValueError):
                continue  # the shape moved under an earlier fix this round; revalidate and retry
        if not changed:
            break
        problems = spec_problems(data)
    return problems


def _fix(data: dict[str, Any], problem: Problem, log: _Log) -> bool:
    error = problem.error
    if isinstance(error, ExtraParametersError):
        return _fix_required(data, problem, log)
    if isinstance(error, ParameterDuplicateError):
        return _dedupe_parameters(data, problem, log)
    if isinstance(error, DuplicateOperationIDError):
        return _rename_operation_id(data, problem, log)
    if isinstance(error, UnresolvableParameterError):
        return _fix_path_parameter(data, problem, log)
    if problem.origin == "default":
        return _fix_default(data, problem, log)
    if problem.origin == "meta":
        return _fix_schema(data, problem, log)
    if problem.message.startswith("Duplicate tag name"):
        return _dedupe_list(data, "/tags", log, key=lambda t: t.get("name") if isinstance(t, dict) else t)
    return False


def _fix_document_schema(data: dict[str, Any], log: _Log) -> bool:
    """Repair what breaks the official OpenAPI JSON Schema.

    openapi-spec-validator may check the document with jsonschema-rs, whose errors carry no
    keyword or sub-errors; the pure-Python validator is asked again for the detail a repair needs.
    """
    schema = {"2.0": schema_v2, "3.0": schema_v30, "3.1": schema_v31}[spec_version(data) or "3.0"]
    validator = validator_for(schema)(schema)
    changed = False
    for error in list(validator.iter_errors(data)):
        leaf = _deepest(error)
        pointer = "".join("/" + _escape(str(t)) for t in leaf.absolute_path)
        try:
            changed |= _fix_value(data, pointer, leaf.validator, leaf.schema, leaf.instance, log)
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    return changed


def _deepest(error: ValidationError) -> ValidationError:
    """The sub-error of a ``oneOf``/``anyOf`` failure that got furthest into the document."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def _fix_default(data: dict[str, Any], problem: Problem, log: _Log) -> bool:
    owner_pointer = problem.schema_pointer or ""
    owner = resolve(data, owner_pointer)
    schema = follow_ref(data, owner, owner_pointer)[0]
    if not isinstance(owner, dict) or "default" not in owner or not isinstance(schema, dict):
        return False
    where = f"{owner_pointer}/default"
    _coerce_enum(schema, owner_pointer, log)
    old = owner["default"]
    new = coerce(old, schema)
    if new is not FAILED and (new != old or type(new) is not type(old)):
        owner["default"] = new
        log(where, f"default {old!r} changed to {new!r} to match the schema type")
        return True
    del owner["default"]
    log(where, f"default {old!r} removed: it does not match the schema ({problem.message})")
    return True


def _coerce_enum(schema: dict[str, Any], pointer: str, log: _Log) -> None:
    enum, kind = schema.get("enum"), schema.get("type")
    if not isinstance(enum, list) or not isinstance(kind, str):
        return
    items = schema.get("items")
    if (
        kind == "array"
        and isinstance(items, dict)
        and "enum" not in items
        and not any(isinstance(v, list) for v in enum)
    ):
        # `type: array` with an enum of scalars means the items' values (common in Swagger 2.0).
        items["enum"] = schema.pop("enum")
        log(f"{pointer}/enum", "enum of an array moved to its items")
        return
    coerced = [coerce_to_type(v, kind) for v in enum]
    if FAILED in coerced or (
        coerced == enum and all(type(a) is type(b) for a, b in zip(coerced, enum, strict=True))
    ):
        return
    schema["enum"] = _unique(coerced)
    log(f"{pointer}/enum", f"enum values changed to {kind}s to match the schema type")


def _fix_schema(data: dict[str, Any], problem: Problem, log: _Log) -> bool:
    pointer = problem.pointer
    value = resolve(data, pointer)
    if pointer == problem.schema_pointer and not isinstance(value, (dict, bool)):
        return _replace_schema(data, pointer, value, log)
    error = problem.error
    return _fix_value(data, pointer, error.validator, error.schema, value, log)


def _replace_schema(data: dict[str, Any], pointer: str, value: Any, log: _Log) -> bool:
    parent, key = _parent(data, pointer)
    if isinstance(value, list):
        branches = [b for b in value if not (isinstance(b, dict) and b.get("type") == "null")]
        nullable = len(branches) < len(value)
        if spec_version(data) == "2.0" or len(branches) <= 1:
            new: Any = dict(branches[0]) if branches and isinstance(branches[0], dict) else {}
            how = "its first non-null schema"
        else:
            new, how = {"anyOf": branches}, "anyOf"
        if nullable:
            new.update(_nullable(data))
        parent[key] = new
        log(pointer, f"a list of schemas is not a schema; replaced by {how}")
        return True
    if isinstance(value, str) and _type_name(value):
        parent[key] = {"type": _type_name(value)}
        log(pointer, f"schema {value!r} replaced by {{'type': {_type_name(value)!r}}}")
        return True
    parent[key] = {}
    log(pointer, f"schema {value!r} is not a schema; replaced by an empty one")
    return True


def _fix_value(
    data: dict[str, Any], pointer: str, validator: Any, schema: Any, value: Any, log: _Log
) -> bool:
    """Repair the value at ``pointer`` that broke keyword ``validator`` of JSON Schema ``schema``."""
    expected = schema.get(validator) if isinstance(schema, dict) and isinstance(validator, str) else None
    parent, key = _parent(data, pointer) if pointer else (None, None)
    if validator == "additionalProperties" and isinstance(value, dict):
        return _rename_unknown(value, schema, pointer, log)
    if validator == "required" and isinstance(value, dict):
        return _add_required(value, expected, pointer, log)
    if validator == "uniqueItems" and parent is not None and isinstance(value, list):
        parent[key] = _unique(value)
        log(pointer, "duplicate values removed")
        return True
    if parent is None:
        return False
    if key in _BOUNDS and isinstance(parent, dict):
        return _fix_bound(data, parent, key, pointer, log)
    if key == "type" and (validator in ("type", "enum", "oneOf", "anyOf")):
        return _fix_type_keyword(data, parent, pointer, log)
    if validator == "type" and isinstance(expected, str):
        new = coerce_to_type(value, expected)
        if new is not FAILED and not (new == value and type(new) is type(value)):
            parent[key] = new
            log(pointer, f"{value!r} changed to {new!r} ({expected} expected)")
            return True
    if validator == "minItems" and isinstance(value, list) and not value and isinstance(parent, dict):
        del parent[key]
        log(pointer, "empty list removed")
        return True
    if isinstance(parent, dict) and isinstance(key, str) and not key.startswith("x-") and key not in _KEPT:
        del parent[key]
        parent[f"x-{key}"] = value
        log(pointer, f"invalid value moved to x-{key}")
        return True
    return False


def _fix_bound(data: dict[str, Any], schema: dict[str, Any], key: str, pointer: str, log: _Log) -> bool:
    """Convert ``exclusiveMinimum``/``exclusiveMaximum`` between the 3.0 (boolean) and 3.1 (number) forms."""
    value, bound = schema[key], _BOUNDS[key]
    numeric = spec_version(data) == "3.1"
    if numeric and isinstance(value, bool):
        if value and isinstance(schema.get(bound), (int, float)):
            schema[key] = schema.pop(bound)
            log(pointer, f"{key}: true with {bound} {schema[key]!r} changed to {key}: {schema[key]!r}")
        else:
            del schema[key]
            log(pointer, f"{key}: {str(value).lower()} removed (no {bound} to make exclusive)")
        return True
    if not numeric and isinstance(value, (int, float)) and not isinstance(value, bool):
        schema[bound], schema[key] = value, True
        log(pointer, f"{key}: {value!r} changed to {bound}: {value!r} with {key}: true")
        return True
    return False


def _fix_type_keyword(data: dict[str, Any], schema: dict[str, Any], pointer: str, log: _Log) -> bool:
    kind = schema["type"]
    kinds = kind if isinstance(kind, list) else [kind]
    names = [_type_name(k) for k in kinds if k != "null"]
    names = [n for n in names if n]
    if "null" in kinds:
        schema.update(_nullable(data))
    if names:
        schema["type"] = names[0]
    else:
        del schema["type"]
    log(
        pointer,
        f"type {kind!r} changed to {schema.get('type')!r}" + (" (nullable)" if "null" in kinds else ""),
    )
    return True


def _nullable(data: dict[str, Any]) -> dict[str, Any]:
    return {"x-nullable": True} if spec_version(data) == "2.0" else {"nullable": True}


def _type_name(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    name = _TYPE_SYNONYMS.get(value.lower(), value.lower())
    return name if name in ("string", "number", "integer", "boolean", "array", "object") else None


def _rename_unknown(value: dict[str, Any], schema: Any, pointer: str, log: _Log) -> bool:
    # The error's schema is the JSON Schema of this object; find which keys it refuses.
    allowed = set(schema.get("properties", {})) if isinstance(schema, dict) else set()
    patterns = [
        re.compile(p) for p in (schema.get("patternProperties", {}) if isinstance(schema, dict) else {})
    ]
    unknown = [k for k in value if k not in allowed and not any(p.search(k) for p in patterns)]
    for key in unknown:
        moved = value.pop(key)
        if f"x-{key}" not in value:
            value[f"x-{key}"] = moved
            log(f"{pointer}/{_escape(key)}", f"unknown field {key!r} moved to 'x-{key}'")
        else:
            log(f"{pointer}/{_escape(key)}", f"unknown field {key!r} removed")
    return bool(unknown)


def _add_required(value: dict[str, Any], missing: Any, pointer: str, log: _Log) -> bool:
    changed = False
    for key in missing if isinstance(missing, list) else []:
        if key not in value and key in _REQUIRED_DEFAULTS:
            value[key] = _REQUIRED_DEFAULTS[key]
            log(f"{pointer}/{_escape(key)}", f"required field {key!r} added as {_REQUIRED_DEFAULTS[key]!r}")
            changed = True
    return changed


def _fix_required(data: dict[str, Any], problem: Problem, log: _Log) -> bool:
    schema = resolve(data, problem.schema_pointer or "")
    names = re.findall(r"'([^']+)'", problem.message)
    if not isinstance(schema, dict) or not isinstance(schema.get("required"), list):
        return False
    schema["required"] = [n for n in schema["required"] if n not in names]
    if not schema["required"]:
        del schema["required"]
    log(f"{problem.schema_pointer}/required", f"{', '.join(names)} removed from required: no such property")
    return True


def _dedupe_parameters(data: dict[str, Any], problem: Problem, log: _Log) -> bool:
    return _dedupe_list(data, problem.pointer, log, key=lambda p: _parameter_key(data, p))


def _parameter_key(data: dict[str, Any], parameter: Any) -> Any:
    resolved = follow_ref(data, parameter, "")[0]
    return (resolved.get("name"), resolved.get("in")) if isinstance(resolved, dict) else id(parameter)


def _dedupe_list(data: dict[str, Any], pointer: str, log: _Log, *, key: Callable[[Any], Any]) -> bool:
    items = resolve(data, pointer)
    if not isinstance(items, list):
        return False
    seen, kept = set(), []
    for item in items:
        marker = key(item)
        if marker in seen:
            log(pointer, f"duplicate {marker!r} removed")
            continue
        seen.add(marker)
        kept.append(item)
    if len(kept) == len(items):
        return False
    items[:] = kept
    return True


def _rename_operation_id(data: dict[str, Any], problem: Problem, log: _Log) -> bool:
    operation = resolve(data, problem.pointer)
    if not isinstance(operation, dict) or not isinstance(operation.get("operationId"), str):
        return False
    old = operation["operationId"]
    taken = _operation_ids(data)
    counter = 2
    while f"{old}_{counter}" in taken:
        counter += 1
    operation["operationId"] = f"{old}_{counter}"
    log(f"{problem.pointer}/operationId", f"duplicate operationId {old!r} renamed {old}_{counter}")
    return True


def _operation_ids(data: dict[str, Any]) -> set[str]:
    found = set()
    for item in (data.get("paths") or {}).values():
        for operation in item.values() if isinstance(item, dict) else []:
            if isinstance(operation, dict) and isinstance(operation.get("operationId"), str):
                found.add(operation["operationId"])
    return found


def _fix_path_parameter(data: dict[str, Any], problem: Problem, log: _Log) -> bool:
    match = _PATH_PARAMETER.search(problem.message)
    operation = resolve(data, problem.pointer)
    if match is None or not isinstance(operation, dict):
        return False
    name, path = match.group(1), match.group(3)
    if "{" + name + "}" in path:
        declared: dict[str, Any] = {"name": name, "in": "path", "required": True}
        declared.update({"type": "string"} if spec_version(data) == "2.0" else {"schema": {"type": "string"}})
        operation.setdefault("parameters", []).append(declared)
        log(f"{problem.pointer}/parameters", f"path parameter {name!r} declared (it is in the path template)")
        return True
    parameters = operation.get("parameters")
    if isinstance(parameters, list):
        kept = [p for p in parameters if _parameter_key(data, p) != (name, "path")]
        if len(kept) < len(parameters):
            operation["parameters"] = kept
            log(f"{problem.pointer}/parameters", f"path parameter {name!r} removed: not in the path template")
            return True
    return False


def _parent(data: Any, pointer: str) -> tuple[Any, Any]:
    head, _, last = pointer.rpartition("/")
    parent = resolve(data, head)
    if is_missing(parent):
        raise KeyError(pointer)
    token = last.replace("~1", "/").replace("~0", "~")
    return parent, int(token) if isinstance(parent, list) else token


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if not any(value == v and type(value) is type(v) for v in out):
            out.append(value)
    return out


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
