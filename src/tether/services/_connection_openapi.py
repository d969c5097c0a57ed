"""One connection as an OpenAPI 3.1 document: any language's generator gets a client for it.

Each operation the connection offers (``list_operations``) becomes ``POST`` on Tether's invoke
route for that connection, under its own ``operationId``: the request body is the operation's
input schema (one object of arguments), the answer is invoke's envelope with the operation's
output schema as ``body``, and errors are Tether's problem+json. The document's server is this
Tether and its security a bearer token, so a generated client calls the connector's API through
the connection (its credentials, policies and network policy) with the user's own token; the
connection's secrets are never in it.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import quote

from tether.secrets import KeyRing
from tether.services._access import Principal
from tether.services._connector_runner import ConnectorRunner
from tether.services._operations import (
    OperationInfo,
    UsableConnection,
    described_operations,
    usable_connection,
)
from tether.store import Database

__all__ = ["OPENAPI_VERSION", "build_connection_openapi", "connection_openapi", "invoke_path"]

OPENAPI_VERSION: Final = "3.1.0"
_BEARER: Final = "bearerAuth"
# Where a schema holds sub-schemas (maps of them, lists of them, one of them); the rest is data.
_SCHEMA_MAPS: Final = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS: Final = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONES: Final = (
    "items", "not", "additionalProperties", "contains", "if", "then", "else", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties",
)  # fmt: skip
_PROBLEM: Final = {
    "type": "object",
    "description": "An RFC 9457 problem: what went wrong, where, and how to fix it.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}


def connection_openapi(
    db: Database,
    principal: Principal,
    environment: str | None,
    connection: str,
    *,
    base_url: str,
    keyring: KeyRing,
    runtime: ConnectorRunner,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``connection`` for ``principal`` (who must be allowed to invoke it).

    ``base_url`` is where this Tether answers (its public URL), the document's one server.
    """
    usable = usable_connection(db, principal, environment, connection, keyring=keyring, runtime=runtime)
    return build_connection_openapi(usable, described_operations(usable.compiled, runtime), base_url)


def invoke_path(environment: str, connection_id: str, operation_id: str) -> str:
    """The invoke route of one operation, segments percent-encoded (operation ids are free text)."""
    parts = (quote(environment, safe=""), quote(connection_id, safe=""), quote(operation_id, safe=""))
    return "/api/v1/environments/{}/connections/{}/invoke/{}".format(*parts)


def build_connection_openapi(
    usable: UsableConnection, operations: tuple[OperationInfo, ...] | list[OperationInfo], base_url: str
) -> dict[str, Any]:
    """The document (pure): ``operations`` routed to invoke through ``usable`` on ``base_url``."""
    api = usable.compiled.api
    description = (
        f"The operations of connector '{api.title}' through connection '{usable.display_name}' "
        f"({usable.connection_id}) in environment '{usable.environment}'. Each one is Tether's invoke "
        "endpoint: send the arguments as one JSON object; the answer carries the API's status, "
        "headers and body."
    )
    if api.description:
        description += "\n\n" + api.description
    paths: dict[str, Any] = {}
    for info in operations:
        paths[invoke_path(usable.environment, usable.connection_id, info.operation_id)] = {
            "post": _operation(info)
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"{api.title} ({usable.display_name})",
            "version": api.version or "1.0",
            "description": description,
        },
        "servers": [{"url": base_url.rstrip("/") or "/", "description": "Tether"}],
        "security": [{_BEARER: []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                _BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Your personal access token (tth_…: 'tether login', POST /api/v1/tokens).",
                }
            },
            "schemas": {"Problem": _PROBLEM},
        },
    }


def _operation(info: OperationInfo) -> dict[str, Any]:
    body_schema = checked_defaults(info.input_schema)
    operation: dict[str, Any] = {
        "operationId": info.operation_id,
        "summary": info.summary or info.operation_id,
        "requestBody": {
            "required": bool(body_schema.get("required")),
            "content": {"application/json": {"schema": body_schema}},
        },
        "responses": {
            "200": {
                "description": "What the API answered: its status, headers and body.",
                "content": {"application/json": {"schema": _envelope(info.output_schema)}},
            },
            "default": {
                "description": "Tether refused or could not make the call (bad arguments, no access, the API "
                "unreachable, rate limited).",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        },
    }
    if info.description:
        operation["description"] = info.description
    if info.deprecated:
        operation["deprecated"] = True
    if info.kind == "trigger":
        operation["x-ms-trigger"] = info.trigger
    if info.visibility:
        operation["x-ms-visibility"] = info.visibility
    return operation


def _envelope(output: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = checked_defaults(output) if output else {}
    body.setdefault("description", "The API's answer: JSON, text, or base64 when body_encoding says so.")
    return {
        "type": "object",
        "properties": {
            "status": {"type": "integer", "description": "The API's HTTP status."},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": body,
            "body_encoding": {"type": ["string", "null"], "description": "'base64' for a binary body."},
            "content_type": {"type": ["string", "null"]},
            "warnings": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["status", "headers", "body", "warnings"],
    }


def checked_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` in which every ``default`` that breaks its own schema is kept as ``x-ms-default``.

    Real definitions carry such defaults (``"Default"`` outside its enum in CardsForPowerApps, a
    date-time without a zone in EXPOCAD); OpenAPI 3.1 validators refuse the whole document for one
    of them. The runtime still fills the definition's default; the document only describes it.
    """
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {
                name: checked_defaults(sub) if isinstance(sub, dict) else sub for name, sub in value.items()
            }
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [checked_defaults(sub) if isinstance(sub, dict) else sub for sub in value]
        elif key in _SCHEMA_ONES and isinstance(value, dict):
            out[key] = checked_defaults(value)
        else:
            out[key] = value
    if "default" in out and not _fits(out):
        out["x-ms-default"] = out.pop("default")
    return out


def _fits(schema: dict[str, Any]) -> bool:
    # Imported here: the validator (jsonschema and its formats) costs ~0.2 s to import, and most
    # processes importing services (the CLI, workers) never build a document.
    from jsonschema.exceptions import SchemaError, UnknownType
    from openapi_schema_validator import OAS31Validator, oas31_format_checker

    rest = {k: v for k, v in schema.items() if k != "default"}
    try:
        return bool(OAS31Validator(rest, format_checker=oas31_format_checker).is_valid(schema["default"]))
    except (SchemaError, UnknownType, re.error, TypeError, ValueError):  # a schema it cannot even use
        return False
