"""Compiling OpenAPI 3.0 and 3.1 into the IR, without converting to Swagger 2.0 first.

Power Platform only takes Swagger 2.0, so OpenAPI 3 documents are usually down-converted,
losing ``oneOf``, cookies, server variables and per-media-type bodies. Tether compiles
them directly: the IR was designed from OpenAPI 3's vocabulary (``style``/``explode``,
``content`` by media type, named OAuth flows), so nothing is lost on the way.
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
    ServerVariable,
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

__all__ = ["compile_openapi3"]

DEFAULT_SERVER_URL = "/"  # what OpenAPI 3 says an absent `servers` means
_LOCATIONS = {"path", "query", "header", "cookie"}
# OpenAPI 3 default style per location; explode defaults to true only for "form".
_DEFAULT_STYLES = {"path": "simple", "header": "simple", "query": "form", "cookie": "form"}


def compile_openapi3(data: dict[str, Any], *, name: str = "definition", spec_version: str = "3.0.0") -> Api:
    """Compile an OpenAPI 3.0/3.1 document (already known to say ``openapi: 3.x``)."""
    resolver = Resolver(data, name=name)
    operations = compile_operations(data, _OpenApi3(resolver))
    info = as_dict(data.get("info"))
    return Api(
        title=as_str(info.get("title")) or "",
        version=version_text(info.get("version")),
        spec_version=spec_version,
        description=as_str(info.get("description")),
        servers=_servers(data.get("servers")) or [Server(url=DEFAULT_SERVER_URL)],
        operations=operations,
        security_schemes=_security_schemes(data, resolver),
        security=security_requirements(data.get("security")) or [],
        tags=[t for t in as_list(data.get("tags")) if isinstance(t, dict)],
        extensions=extensions_of(data),
        external_refs=resolver.external,
        name=name,
        raw=data,
    )


def _servers(value: Any) -> list[Server]:
    servers = []
    for raw in as_list(value):
        if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
            continue
        variables = {}
        for key, var in as_dict(raw.get("variables")).items():
            if isinstance(var, dict):
                variables[str(key)] = ServerVariable(
                    default=str(var.get("default", "")),
                    enum=[str(v) for v in as_list(var.get("enum"))],
                    description=as_str(var.get("description")),
                )
        servers.append(
            Server(
                url=raw["url"],
                description=as_str(raw.get("description")),
                variables=variables,
                extensions=extensions_of(raw),
            )
        )
    return servers


def _security_schemes(data: dict[str, Any], resolver: Resolver) -> dict[str, SecurityScheme]:
    out: dict[str, SecurityScheme] = {}
    components = as_dict(data.get("components"))
    for key, value in as_dict(components.get("securitySchemes")).items():
        raw, pointer = resolver.follow(value, f"/components/securitySchemes/{escape_pointer(key)}")
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            continue
        flows = {}
        for flow_kind, flow in as_dict(raw.get("flows")).items():
            if isinstance(flow, dict):
                flows[str(flow_kind)] = OAuthFlow(
                    kind=str(flow_kind),
                    authorization_url=as_str(flow.get("authorizationUrl")),
                    token_url=as_str(flow.get("tokenUrl")),
                    refresh_url=as_str(flow.get("refreshUrl")),
                    scopes=scope_descriptions(flow.get("scopes")),
                )
        kind = raw["type"]
        out[str(key)] = SecurityScheme(
            name=str(key),
            kind=kind,
            description=as_str(raw.get("description")),
            location=as_str(raw.get("in")) if kind == "apiKey" else None,
            param_name=as_str(raw.get("name")) if kind == "apiKey" else None,
            scheme=(as_str(raw.get("scheme")) or "").lower() or None,
            bearer_format=as_str(raw.get("bearerFormat")),
            flows=flows,
            open_id_connect_url=as_str(raw.get("openIdConnectUrl")),
            pointer=pointer,
            extensions=extensions_of(raw),
        )
    return out


class _OpenApi3:
    """The OpenAPI 3 ``Dialect``: parameters, bodies and responses."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    def parameter(self, raw: dict[str, Any], pointer: str) -> Parameter | None:
        location = raw["in"]
        if location not in _LOCATIONS:
            return None
        schema = self._schema(raw.get("schema"), f"{pointer}/schema")
        if not schema and isinstance(raw.get("content"), dict):
            # `content` instead of `schema`: serialized as a media type (rare; JSON in a query).
            schema = next(iter(self._content(raw["content"], f"{pointer}/content").values()), {})
        style = as_str(raw.get("style")) or _DEFAULT_STYLES[location]
        explode = raw.get("explode")
        return Parameter(
            name=raw["name"],
            location=location,
            required=location == "path" or as_bool(raw.get("required")),
            schema=schema,
            default=schema.get("default", NO_DEFAULT),
            style=style,
            explode=explode if isinstance(explode, bool) else style == "form",
            allow_reserved=as_bool(raw.get("allowReserved")),
            pointer=pointer,
            **parameter_common(raw, schema),
        )

    def request_body(self, op: RawOperation, parameters: list[Parameter]) -> RequestBody | None:
        if "requestBody" not in op.node:
            return None
        raw, pointer = self.resolver.follow(op.node["requestBody"], f"{op.pointer}/requestBody")
        if not isinstance(raw, dict):
            return None
        return RequestBody(
            content=self._content(raw.get("content"), f"{pointer}/content"),
            required=as_bool(raw.get("required")),
            description=as_str(raw.get("description")),
            name=as_str(raw.get("x-bodyName")) or as_str(raw.get("x-ms-body-name")),
            pointer=pointer,
            extensions=extensions_of(raw),
        )

    def response(self, status: str, raw: dict[str, Any], pointer: str, op: RawOperation) -> Response:
        headers: dict[str, dict[str, Any]] = {}
        for header, value in as_dict(raw.get("headers")).items():
            header_pointer = f"{pointer}/headers/{escape_pointer(header)}"
            obj, obj_pointer = self.resolver.follow(value, header_pointer)
            if isinstance(obj, dict):
                headers[str(header)] = self._schema(obj.get("schema"), f"{obj_pointer}/schema")
        return Response(
            status=status,
            description=as_str(raw.get("description")),
            headers=headers,
            content=self._content(raw.get("content"), f"{pointer}/content"),
            pointer=pointer,
            extensions=extensions_of(raw),
        )

    def _schema(self, value: Any, pointer: str) -> dict[str, Any]:
        if value is None:
            return {}
        schema = self.resolver.schema(value, pointer)
        # OpenAPI 3.1 allows boolean schemas; `true` accepts anything, like {}.
        if schema is True:
            return {}
        if schema is False:
            return {"not": {}}
        return schema if isinstance(schema, dict) else {}

    def _content(self, value: Any, pointer: str) -> dict[str, dict[str, Any]]:
        content: dict[str, dict[str, Any]] = {}
        for media_type, media in as_dict(value).items():
            if isinstance(media, dict):
                content[str(media_type)] = self._schema(
                    media.get("schema"), f"{pointer}/{escape_pointer(media_type)}/schema"
                )
        return content
