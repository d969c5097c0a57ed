"""Compiling Swagger 2.0 (the Power Platform connector format) into the IR.

Swagger 2.0 spreads what OpenAPI 3 keeps together: the body is an ``in: body`` or
``formData`` parameter whose media types come from ``consumes``, non-body parameters
carry their schema keywords inline, and the server is every ``schemes`` entry
with ``host`` and ``basePath``. This module gathers them so the IR reads the same for both specifications,
while keeping the Swagger-only facts (``collectionFormat``, the body parameter's name).
"""

from __future__ import annotations

from typing import Any

from tether.definition._document import escape_pointer
from tether.definition._ir import (
    NO_DEFAULT,
    Api,
    OAuthFlow,
    Parameter,
    RequestBody,
    Response,
    SecurityScheme,
    Server,
)
from tether.definition._operations import (
    RawOperation,
    as_bool,
    as_dict,
    as_list,
    as_str,
    compile_operations,
    extensions_of,
    parameter_common,
    scope_descriptions,
    security_requirements,
    version_text,
)
from tether.definition._refs import Resolver

__all__ = ["compile_swagger2"]

DEFAULT_MEDIA_TYPE = "application/json"
DEFAULT_SCHEME = "https"
FORM_URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

_LOCATIONS = {"path", "query", "header", "formData", "body"}
# JSON Schema keywords a non-body parameter (or a header) may carry inline.
_SCHEMA_KEYS = (
    "type", "format", "items", "enum", "default", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "multipleOf",
)  # fmt: skip
# collectionFormat ⇒ (OpenAPI 3 style for query/formData, explode).
_QUERY_STYLES = {
    "csv": ("form", False),
    "multi": ("form", True),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "tsv": ("form", False),  # no OpenAPI 3 equivalent: collection_format stays authoritative
}
# Swagger's flow names ⇒ OpenAPI 3's, so the auth layer knows one vocabulary.
_FLOW_NAMES = {
    "implicit": "implicit",
    "password": "password",
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
}


def compile_swagger2(data: dict[str, Any], *, name: str = "definition") -> Api:
    """Compile a Swagger 2.0 document (already known to say ``swagger: "2.0"``)."""
    resolver = Resolver(data, name=name)
    dialect = _Swagger2(data, resolver)
    operations = compile_operations(data, dialect)
    info = as_dict(data.get("info"))
    return Api(
        title=as_str(info.get("title")) or "",
        version=version_text(info.get("version")),
        spec_version="2.0",
        description=as_str(info.get("description")),
        servers=_servers(data),
        operations=operations,
        security_schemes=_security_schemes(data, resolver),
        security=security_requirements(data.get("security")) or [],
        tags=[t for t in as_list(data.get("tags")) if isinstance(t, dict)],
        extensions=extensions_of(data),
        external_refs=resolver.external,
        name=name,
        raw=data,
    )


def _servers(data: dict[str, Any]) -> list[Server]:
    host = as_str(data.get("host")) or ""
    base_path = (as_str(data.get("basePath")) or "").rstrip("/")
    if not host:
        # Many connectors set the host per connection (dynamichosturl policy): stay relative.
        return [Server(url=base_path or "/")]
    schemes = [s for s in as_list(data.get("schemes")) if isinstance(s, str) and s] or [DEFAULT_SCHEME]
    return [Server(url=f"{scheme.lower()}://{host}{base_path}") for scheme in schemes]


def _security_schemes(data: dict[str, Any], resolver: Resolver) -> dict[str, SecurityScheme]:
    out: dict[str, SecurityScheme] = {}
    for key, value in as_dict(data.get("securityDefinitions")).items():
        pointer = f"/securityDefinitions/{escape_pointer(key)}"
        raw, pointer = resolver.follow(value, pointer)
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            continue
        kind = raw["type"]
        flows: dict[str, OAuthFlow] = {}
        if kind == "oauth2":
            flow = as_str(raw.get("flow")) or ""
            flow_kind = _FLOW_NAMES.get(flow, flow)
            flows[flow_kind] = OAuthFlow(
                kind=flow_kind,
                authorization_url=as_str(raw.get("authorizationUrl")),
                token_url=as_str(raw.get("tokenUrl")),
                scopes=scope_descriptions(raw.get("scopes")),
            )
        out[str(key)] = SecurityScheme(
            name=str(key),
            kind=kind,
            description=as_str(raw.get("description")),
            location=as_str(raw.get("in")) if kind == "apiKey" else None,
            param_name=as_str(raw.get("name")) if kind == "apiKey" else None,
            scheme="basic" if kind == "basic" else None,
            flows=flows,
            pointer=pointer,
            extensions=extensions_of(raw),
        )
    return out


class _Swagger2:
    """The Swagger 2.0 ``Dialect``: parameters, bodies and responses."""

    def __init__(self, data: dict[str, Any], resolver: Resolver) -> None:
        self.resolver = resolver
        self.consumes = _media_types(data.get("consumes"))
        self.produces = _media_types(data.get("produces"))

    def parameter(self, raw: dict[str, Any], pointer: str) -> Parameter | None:
        location = raw["in"]
        if location not in _LOCATIONS:
            return None
        if location == "body":
            schema = self.resolver.schema(raw.get("schema"), f"{pointer}/schema")
            schema = schema if isinstance(schema, dict) else {}
            default = raw.get("default", schema.get("default", NO_DEFAULT))
        else:
            schema = self._inline_schema(raw, pointer)
            default = raw.get("default", NO_DEFAULT)
        is_array = schema.get("type") == "array"
        collection = None
        if is_array and location != "body":
            collection = as_str(raw.get("collectionFormat")) or "csv"
        style, explode = _style(location, collection)
        return Parameter(
            name=raw["name"],
            location=location,
            required=location == "path" or as_bool(raw.get("required")),
            schema=schema,
            default=default,
            collection_format=collection,
            style=style,
            explode=explode,
            pointer=pointer,
            **parameter_common(raw, schema),
        )

    def _inline_schema(self, raw: dict[str, Any], pointer: str) -> dict[str, Any]:
        schema = {key: raw[key] for key in _SCHEMA_KEYS if key in raw}
        if isinstance(schema.get("items"), dict):
            schema["items"] = self.resolver.schema(schema["items"], f"{pointer}/items")
        return schema

    def request_body(self, op: RawOperation, parameters: list[Parameter]) -> RequestBody | None:
        consumes = _media_types(op.node.get("consumes")) or self.consumes or [DEFAULT_MEDIA_TYPE]
        for param in parameters:
            if param.location == "body":
                return RequestBody(
                    content=dict.fromkeys(consumes, param.schema),
                    required=param.required,
                    description=param.description,
                    name=param.name,
                    pointer=param.pointer,
                    extensions=param.extensions,
                )
        form = [p for p in parameters if p.location == "formData"]
        if not form:
            return None
        has_file = any(p.schema.get("type") == "file" for p in form)
        multipart = has_file or (MULTIPART in consumes and FORM_URLENCODED not in consumes)
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {p.name: _form_property(p.schema) for p in form},
        }
        required = [p.name for p in form if p.required]
        if required:
            schema["required"] = required
        return RequestBody(
            content={MULTIPART if multipart else FORM_URLENCODED: schema},
            required=bool(required),
            pointer=f"{op.pointer}/parameters",
        )

    def response(self, status: str, raw: dict[str, Any], pointer: str, op: RawOperation) -> Response:
        produces = _media_types(op.node.get("produces")) or self.produces or [DEFAULT_MEDIA_TYPE]
        content: dict[str, dict[str, Any]] = {}
        if "schema" in raw:
            schema = self.resolver.schema(raw["schema"], f"{pointer}/schema")
            if isinstance(schema, dict):
                content = dict.fromkeys(produces, schema)
        headers: dict[str, dict[str, Any]] = {}
        for header, value in as_dict(raw.get("headers")).items():
            if isinstance(value, dict):
                header_pointer = f"{pointer}/headers/{escape_pointer(header)}"
                headers[str(header)] = self._inline_schema(value, header_pointer)
        return Response(
            status=status,
            description=as_str(raw.get("description")),
            headers=headers,
            content=content,
            pointer=pointer,
            extensions=extensions_of(raw),
        )


def _media_types(value: Any) -> list[str]:
    return [m for m in as_list(value) if isinstance(m, str) and m]


def _style(location: str, collection: str | None) -> tuple[str | None, bool | None]:
    if location == "body":
        return None, None
    if location in ("path", "header"):
        return "simple", False
    return _QUERY_STYLES.get(collection or "csv", ("form", False))


def _form_property(schema: dict[str, Any]) -> dict[str, Any]:
    # OpenAPI 3 spells Swagger's `type: file` as a binary string; say it the same way here.
    if schema.get("type") == "file":
        return {**schema, "type": "string", "format": "binary"}
    return schema
