"""One operation's inputs and outputs as plain JSON Schema: what apps, agents and forms are shown.

The IR keeps a connector's schemas as the definition wrote them, with ``$ref``s resolved into
shared (possibly cyclic) dicts and the wire details (path, query, header, body) on separate
parameters. A caller of the invoke endpoint sees none of that: it sends ONE object of arguments
keyed by parameter name, the body under its own name. :func:`input_schema` describes exactly that
object, so a schema an agent fills is an argument object invoke accepts:

- one property per path, query, header and form parameter, and one for the body (named as the
  Swagger body parameter is, else ``body``), with Power Platform's ``x-ms-summary`` as ``title``;
- ``x-ms-visibility: internal`` parameters and body properties left out (the runtime fills
  their defaults), as are the parameters the connection itself supplies (an API key header);
- ``required`` lists only what the runtime cannot fill from a default.

Schemas come out as fresh JSON-safe trees: a recursive definition is cut where it repeats, depth
and size are bounded, Swagger's ``type: file`` reads as a binary string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tether.definition import Api, Operation, Parameter, RequestBody

__all__ = [
    "BODY_ARGUMENT",
    "DYNAMIC_EXTENSIONS",
    "MAX_SCHEMA_DEPTH",
    "body_argument",
    "input_parameters",
    "input_schema",
    "json_schema",
    "output_schema",
]

BODY_ARGUMENT: Final = "body"
# Deep enough for every corpus schema; a recursive one is cut where it repeats anyway.
MAX_SCHEMA_DEPTH: Final = 32
# Schema nodes copied for one operation: a fan-out of shared definitions cannot blow up an answer.
MAX_SCHEMA_NODES: Final = 20_000
DYNAMIC_EXTENSIONS: Final = (
    "x-ms-dynamic-values",
    "x-ms-dynamic-list",
    "x-ms-dynamic-schema",
    "x-ms-dynamic-properties",
    "x-ms-dynamic-tree",
)
# Success answers in the order their schema describes "the" output; `default` is the fallback.
_OUTPUT_STATUSES: Final = ("200", "201", "2XX", "2xx")
_SCHEMA_MAPS: Final = ("properties", "patternProperties", "definitions", "$defs")
_SCHEMA_LISTS: Final = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONES: Final = ("not", "additionalProperties", "additionalItems", "contains", "if", "then", "else")
_RECURSIVE: Final = {"description": "Recursive: the same shape as an enclosing object."}
_TRUNCATED: Final = {"description": "Not expanded: the schema is nested too deeply."}


def is_internal(node: Mapping[str, Any]) -> bool:
    """Whether a parameter or schema is hidden from users (``x-ms-visibility: internal``)."""
    return str(node.get("x-ms-visibility", "")).lower() == "internal"


def is_internal_param(param: Parameter) -> bool:
    """Whether a parameter is hidden from users: the runtime fills its default."""
    return (param.visibility or "").lower() == "internal"


def json_schema(schema: Any) -> dict[str, Any]:
    """A JSON-safe copy of an IR schema, internal properties dropped, titles from ``x-ms-summary``."""
    if not isinstance(schema, dict):
        return {}
    return _Copier().schema(schema, 0)


def body_argument(operation: Operation) -> str | None:
    """The argument name invoke takes the body under, or None when there is no separate body.

    A body built from Swagger ``formData`` parameters has none: its fields are arguments of
    their own. A parameter elsewhere called ``body`` leaves only the body's declared name.
    """
    body = operation.request_body
    if body is None or any(p.location == "formData" for p in operation.parameters):
        return None
    if body.name:
        return body.name
    if any(p.name == BODY_ARGUMENT and p.location != "body" for p in operation.parameters):
        return None  # nowhere to put it: the compiler gives OpenAPI 3 bodies no name
    return BODY_ARGUMENT


def input_parameters(api: Api, operation: Operation) -> list[Parameter]:
    """The parameters a caller gives: not the body, not internal, not those the connection supplies."""
    supplied = connection_supplied(api)
    return [
        p
        for p in operation.parameters
        if p.location != "body" and not is_internal_param(p) and (p.location, p.name.lower()) not in supplied
    ]


def connection_supplied(api: Api) -> set[tuple[str, str]]:
    """(location, lower-case name) of inputs the connection's credentials fill: API keys, Authorization."""
    supplied: set[tuple[str, str]] = set()
    for scheme in api.security_schemes.values():
        if scheme.kind == "apiKey" and scheme.location and scheme.param_name:
            supplied.add((scheme.location, scheme.param_name.lower()))
        elif scheme.kind in ("oauth2", "basic", "http", "openIdConnect"):
            supplied.add(("header", "authorization"))
    return supplied


def input_schema(api: Api, operation: Operation) -> dict[str, Any]:
    """The object of arguments invoke takes for ``operation``, as one JSON Schema."""
    copier = _Copier()
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in input_parameters(api, operation):
        properties[param.name] = _parameter_property(param, copier)
        if param.required and not param.has_default:
            required.append(param.name)
    name = body_argument(operation)
    declared = operation.parameter(name, "body") if name is not None else None
    body = operation.request_body
    if name is not None and body is not None and not (declared and is_internal_param(declared)):
        prop = _body_property(body, declared, copier)
        properties[name] = prop
        if body.required and "default" not in prop:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def output_schema(operation: Operation) -> dict[str, Any] | None:
    """The success answer's body schema (200, 201, else ``default``), or a webhook trigger's payload."""
    if operation.trigger is not None and operation.notification_content is not None:
        return json_schema(operation.notification_content)
    responses = operation.responses
    chosen = next((responses[s] for s in _OUTPUT_STATUSES if s in responses), None)
    if chosen is None:
        others = sorted(s for s in responses if s.startswith("2"))
        chosen = responses[others[0]] if others else responses.get("default")
    if chosen is None or chosen.schema is None:
        return None
    return json_schema(chosen.schema)


def _parameter_property(param: Parameter, copier: _Copier) -> dict[str, Any]:
    prop = copier.schema(param.schema, 0)
    if param.summary and "title" not in prop:
        prop["title"] = param.summary
    if param.description and "description" not in prop:
        prop["description"] = param.description
    if param.has_default:
        prop["default"] = copier.data(param.default, 0)
    if param.visibility and "x-ms-visibility" not in prop:
        prop["x-ms-visibility"] = param.visibility
    for key in DYNAMIC_EXTENSIONS:
        if key in param.extensions and key not in prop:
            prop[key] = copier.data(param.extensions[key], 0)
    return prop


def _body_property(body: RequestBody, declared: Parameter | None, copier: _Copier) -> dict[str, Any]:
    prop = copier.schema(body.schema or {}, 0)
    if declared is not None and declared.summary and "title" not in prop:
        prop["title"] = declared.summary
    if body.description and "description" not in prop:
        prop["description"] = body.description
    return prop


def _exclusive_bounds(schema: dict[str, Any]) -> None:
    """Draft 4's (Swagger 2.0's) boolean ``exclusiveMinimum``/``Maximum`` as JSON Schema 2020-12 says them.

    ``{"minimum": 0, "exclusiveMinimum": true}`` is ``{"exclusiveMinimum": 0}`` now; a ``false`` one
    says nothing. 72 corpus parameters use the old form, and clients validating a tool's schema
    against the 2020-12 meta-schema refuse it.
    """
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = schema.get(exclusive)
        if not isinstance(flag, bool):
            continue
        del schema[exclusive]
        limit = schema.get(bound)
        if flag and isinstance(limit, int | float) and not isinstance(limit, bool):
            schema[exclusive] = schema.pop(bound)


class _Copier:
    """Copies schemas for one answer, cutting cycles and bounding depth and size."""

    def __init__(self) -> None:
        self.path: set[int] = set()
        self.nodes = 0

    def schema(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        if id(node) in self.path:
            return dict(_RECURSIVE)
        if depth > MAX_SCHEMA_DEPTH or self.nodes > MAX_SCHEMA_NODES:
            return dict(_TRUNCATED)
        self.nodes += 1
        self.path.add(id(node))
        try:
            return self._schema(node, depth)
        finally:
            self.path.discard(id(node))

    def _schema(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        hidden: set[str] = set()
        for key, value in node.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                kept = {}
                for name, sub in value.items():
                    if isinstance(sub, dict) and key == "properties" and is_internal(sub):
                        hidden.add(str(name))
                        continue
                    kept[str(name)] = self.any(sub, depth)
                out[key] = kept
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self.any(s, depth) for s in value]
            elif (key in _SCHEMA_ONES or key == "items") and isinstance(value, dict):
                out[key] = self.schema(value, depth + 1)
            elif key == "items" and isinstance(value, list):
                out[key] = [self.schema(s, depth + 1) if isinstance(s, dict) else {} for s in value]
            else:
                out[str(key)] = self.data(value, depth)
        if hidden and isinstance(out.get("required"), list):
            out["required"] = [r for r in out["required"] if r not in hidden]
            if not out["required"]:
                del out["required"]
        if "title" not in out and isinstance(node.get("x-ms-summary"), str):
            out["title"] = node["x-ms-summary"]
        if out.get("type") == "file":  # Swagger 2.0's upload type, as OpenAPI 3 and JSON Schema say it
            out["type"], out["format"] = "string", "binary"
        _exclusive_bounds(out)
        return out

    def any(self, value: Any, depth: int) -> Any:
        """A sub-schema (one level down) or, where a schema was expected but is not one, the value."""
        return self.schema(value, depth + 1) if isinstance(value, dict) else self.data(value, depth)

    def data(self, value: Any, depth: int) -> Any:
        """A JSON value (enum, default, example, an extension's object), copied with the same bounds."""
        if isinstance(value, dict):
            if id(value) in self.path or depth > MAX_SCHEMA_DEPTH:
                return {}
            self.path.add(id(value))
            try:
                return {str(k): self.data(v, depth + 1) for k, v in value.items()}
            finally:
                self.path.discard(id(value))
        if isinstance(value, list | tuple):
            if depth > MAX_SCHEMA_DEPTH:
                return []
            return [self.data(v, depth + 1) for v in value]
        if value is None or isinstance(value, str | int | float | bool):
            return value
        return str(value)
