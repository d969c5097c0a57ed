"""One entry point from a parsed API definition to the IR, whatever its specification.

Callers (the package loader, importers, the runtime) should not care whether a connector
was written in Swagger 2.0 or OpenAPI 3.x; they call ``compile_api`` and get an ``Api``.
Anything that is not a supported OpenAPI document is refused here with a message that
says what the document looks like instead, so a user who uploads a Postman collection or
a WSDL learns which importer to use rather than reading a traceback.
"""

from __future__ import annotations

import re
from typing import Any

from tether.definition._ir import Api
from tether.definition._openapi3 import compile_openapi3
from tether.definition._swagger2 import compile_swagger2
from tether.errors import InputError

__all__ = ["compile_api"]

_OPENAPI3 = re.compile(r"3\.[01](\.\d+)?(-[\w.]+)?")


def compile_api(data: Any, *, name: str = "definition") -> Api:
    """Compile a Swagger 2.0 or OpenAPI 3.0/3.1 document into an ``Api``.

    Tolerant of real-world sloppiness (odd shapes are skipped and left for the linter to
    report); raises ``InputError`` for documents of another kind or version and
    ``UnresolvedReference`` (an ``InputError``) for a local ``$ref`` to nothing.
    """
    if not isinstance(data, dict):
        raise InputError(
            f"{name}: an API definition must be a JSON or YAML object, not {_kind(data)}",
            detail={"document": name},
        )
    try:
        if "swagger" in data:
            return _compile_swagger(data, name)
        if "openapi" in data:
            return _compile_openapi(data, name)
    except RecursionError as exc:
        raise InputError(
            f"{name}: the definition is nested too deeply to compile", detail={"document": name}
        ) from exc
    raise InputError(f"{name}: {_not_openapi_reason(data)}", detail={"document": name})


def _compile_swagger(data: dict[str, Any], name: str) -> Api:
    version = _version_text(data["swagger"])
    if version not in ("2.0", "2"):
        raise InputError(
            f"{name}: unsupported Swagger version {version!r}; Tether reads Swagger 2.0 and OpenAPI 3.0/3.1",
            detail={"document": name, "pointer": "/swagger"},
        )
    return compile_swagger2(data, name=name)


def _compile_openapi(data: dict[str, Any], name: str) -> Api:
    version = _version_text(data["openapi"])
    if not _OPENAPI3.fullmatch(version):
        raise InputError(
            f"{name}: unsupported OpenAPI version {version!r}; Tether reads OpenAPI 3.0.x and 3.1.x "
            "(and Swagger 2.0)",
            detail={"document": name, "pointer": "/openapi"},
        )
    return compile_openapi3(data, name=name, spec_version=version)


def _version_text(value: Any) -> str:
    # Unquoted YAML `swagger: 2.0` or `openapi: 3.0` arrives as a float.
    if isinstance(value, float | int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else repr(value)


def _not_openapi_reason(data: dict[str, Any]) -> str:
    """Say what the document seems to be, so the user knows which importer to reach for."""
    info = data.get("info")
    postman_info = isinstance(info, dict) and "_postman_id" in info
    if postman_info or isinstance(data.get("item"), list):
        return "this looks like a Postman collection, not an OpenAPI definition; use the Postman importer"
    keys = [k for k in data if isinstance(k, str)]
    if any(k.split(":")[-1] in ("definitions", "types", "portType") for k in keys) and any(
        "wsdl" in k.lower() or k.startswith("@xmlns") for k in keys
    ):
        return "this looks like a WSDL (SOAP) description; use the WSDL importer"
    properties = data.get("properties")
    if isinstance(properties, dict) and (
        "iconBrandColor" in properties or "connectionParameters" in properties
    ):
        return "this is an apiProperties.json file, not an API definition"
    return (
        "not an OpenAPI definition: it has neither a 'swagger: \"2.0\"' nor an 'openapi: 3.x' key "
        "at the top level"
    )


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", type(None): "null"}.get(type(value), type(value).__name__)
