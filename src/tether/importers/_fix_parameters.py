"""``--fix`` for parameter objects: one pass that adds what is missing, never moves what is there.

openapi-spec-validator reports a bad Swagger 2.0 parameter as "not valid under any of the
schemas listed in the 'oneOf' keyword", and the deepest sub-error usually belongs to the
wrong branch (a path parameter checked as a header one complains about ``in``). Repairing
from that error moved ``in`` away and crashed the validator on the next round. Parameters
are therefore repaired here, directly, before validation: ``in``, ``name`` and ``type`` are
never renamed or moved; what a parameter lacks is added (``required: true`` on path
parameters, ``type: string`` where no type is given), and shared parameters reached
through ``$ref`` are repaired once, where they are written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tether.definition import escape_pointer
from tether.importers._validate import follow_ref, spec_version

__all__ = ["fix_parameters"]

_Log = Callable[[str, str], None]
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TYPE_SYNONYMS = {
    "int": "integer", "long": "integer", "bool": "boolean", "float": "number", "double": "number",
}  # fmt: skip
_V2_PRIMITIVES = ("string", "number", "integer", "boolean", "array", "file")
# Keys a Swagger 2.0 non-body parameter may copy from the schema an author wrote by mistake.
_V2_COPIED = ("format", "items", "enum", "minimum", "maximum", "pattern", "minLength", "maxLength")
_V2_FIELDS = frozenset(
    {
        "name", "in", "description", "required", "type", "format", "items", "collectionFormat", "default",
        "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern",
        "maxItems", "minItems", "uniqueItems", "enum", "multipleOf", "allowEmptyValue", "$ref",
    }
)  # fmt: skip


def fix_parameters(data: dict[str, Any], log: _Log) -> None:
    """Repair every parameter of ``data`` in place, logging ``(pointer, message)`` per repair."""
    v2 = spec_version(data) == "2.0"
    done: set[str] = set()
    for pointer, raw in _parameters(data, v2):
        parameter, where = follow_ref(data, raw, pointer)
        if where in done or not isinstance(parameter, dict):
            continue
        done.add(where)
        if parameter.get("in") == "path" and parameter.get("required") is not True:
            parameter["required"] = True
            log(f"{where}/required", "path parameter made required (path parameters always are)")
        if v2 and parameter.get("in") != "body":
            _fix_v2_parameter(parameter, where, log)
        elif not v2:
            _fix_v3_parameter(parameter, where, log)


def _parameters(data: dict[str, Any], v2: bool) -> Iterator[tuple[str, Any]]:
    """(pointer, parameter or $ref object) for shared, path-level and operation parameters."""
    shared = data.get("parameters") if v2 else (data.get("components") or {}).get("parameters")
    base = "/parameters" if v2 else "/components/parameters"
    if isinstance(shared, dict):
        for name, value in shared.items():
            yield f"{base}/{escape_pointer(name)}", value
    paths = data.get("paths")
    for path, item in paths.items() if isinstance(paths, dict) else []:
        if not isinstance(item, dict):
            continue
        item_pointer = f"/paths/{escape_pointer(path)}"
        holders = [(item_pointer, item)] + [
            (f"{item_pointer}/{m}", item[m]) for m in _METHODS if isinstance(item.get(m), dict)
        ]
        for pointer, holder in holders:
            listed = holder.get("parameters")
            for index, value in enumerate(listed if isinstance(listed, list) else []):
                yield f"{pointer}/parameters/{index}", value


def _fix_v2_parameter(parameter: dict[str, Any], where: str, log: _Log) -> None:
    schema = parameter.get("schema")
    if isinstance(schema, dict) and "type" not in parameter:
        # A 3.0-style parameter in a 2.0 document: its type lives in ``schema``.
        kind = schema.get("type")
        parameter["type"] = kind if kind in _V2_PRIMITIVES else "string"
        for key in _V2_COPIED:
            if key in schema and key not in parameter:
                parameter[key] = schema[key]
        del parameter["schema"]
        log(f"{where}/schema", f"schema of a non-body parameter replaced by type {parameter['type']!r}")
    kind = parameter.get("type")
    if kind is None:
        parameter["type"] = "string"
        log(f"{where}/type", "type 'string' added (a non-body parameter needs a type)")
    elif isinstance(kind, str) and kind.lower() in _TYPE_SYNONYMS:
        parameter["type"] = _TYPE_SYNONYMS[kind.lower()]
        log(f"{where}/type", f"type {kind!r} changed to {parameter['type']!r}")
    elif kind == "object":
        parameter["type"] = "string"
        log(f"{where}/type", "type 'object' changed to 'string' (Swagger 2.0 parameters cannot be objects)")
    for key in [k for k in parameter if k not in _V2_FIELDS and not k.startswith("x-")]:
        # OpenAPI 3 words (style, explode...) kept under x- so nothing the author wrote is lost.
        value = parameter.pop(key)
        parameter.setdefault(f"x-{key}", value)
        log(f"{where}/{escape_pointer(key)}", f"field {key!r} is not Swagger 2.0; moved to 'x-{key}'")
    if parameter.get("type") == "array" and not isinstance(parameter.get("items"), dict):
        parameter["items"] = {"type": "string"}
        log(f"{where}/items", "items of type 'string' added (an array parameter needs items)")


def _fix_v3_parameter(parameter: dict[str, Any], where: str, log: _Log) -> None:
    if "schema" in parameter or "content" in parameter or "$ref" in parameter:
        return
    kind = parameter.pop("type", None)
    if isinstance(kind, str):
        kind = _TYPE_SYNONYMS.get(kind.lower(), kind)
    schema: dict[str, Any] = {"type": kind if isinstance(kind, str) else "string"}
    for key in ("format", "items", "enum"):
        if key in parameter:
            schema[key] = parameter.pop(key)
    parameter["schema"] = schema
    log(f"{where}/schema", f"schema {schema!r} added (an OpenAPI 3 parameter needs a schema or content)")
