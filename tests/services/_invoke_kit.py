"""Real local HTTP services for the invoke tests, and connector packages that call them.

``echo_app`` answers what it received, except secrets: it says whether the key or password it
expects arrived (``saw_key``, ``basic``), never their values, so an answer that contains a
secret can only come from Tether.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tether.definition import ConnectorPackage, package_from_files

KEY = "k3y-sup3r-s3cr3t-value"
PASSWORD = "pa55-w0rd-s3cr3t"


def echo_app() -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        raw = await request.body()
        authorization = request.headers.get("authorization", "")
        basic = None
        if authorization.lower().startswith("basic "):
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            basic = user if password == PASSWORD else "wrong-password"
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "item": request.path_params.get("item"),
                "query": {k: v for k, v in request.query_params.items() if k != "key"},
                "saw_key": KEY in (request.headers.get("x-api-key"), request.query_params.get("key")),
                "basic": basic,
                "policy": request.headers.get("x-policy"),
                "scripted": request.headers.get("x-scripted"),
                "idempotency": request.headers.get("idempotency-key"),
                "body": json.loads(raw) if raw else None,
            },
            headers={"X-Echo": "1"},
        )

    async def unauthorized(request: Request) -> Response:
        return JSONResponse({"error": "token expired"}, status_code=401)

    async def binary(request: Request) -> Response:
        return Response(bytes(range(256)), media_type="application/octet-stream")

    return Starlette(
        routes=[
            Route("/api/echo/{item}", echo, methods=["GET", "POST"]),
            Route("/api/unauthorized", unauthorized),
            Route("/api/binary", binary),
        ]
    )


def _op(operation_id: str, **extra: Any) -> dict[str, Any]:
    return {"operationId": operation_id, "responses": {"200": {"description": "ok"}}, **extra}


ITEM = {"name": "item", "in": "path", "required": True, "type": "string"}
QUERY = {"name": "q", "in": "query", "required": False, "type": "string"}
BODY = {"name": "body", "in": "body", "schema": {"type": "object"}}

SECURITY: dict[str, dict[str, Any]] = {
    "header": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
    "query": {"key": {"type": "apiKey", "in": "query", "name": "key"}},
    "basic": {"basic": {"type": "basic"}},
    "none": {},
}


def secure(label: str) -> dict[str, Any]:
    return {
        "type": "securestring",
        "uiDefinition": {"displayName": label, "constraints": {"required": "true"}},
    }


def plain(label: str) -> dict[str, Any]:
    return {"type": "string", "uiDefinition": {"displayName": label, "constraints": {"required": "true"}}}


def echo_package(
    host: str,
    auth: str = "header",
    *,
    policies: list[dict[str, Any]] | None = None,
    script: str | None = None,
    title: str = "Echo",
) -> ConnectorPackage:
    """A connector for ``echo_app`` at ``host`` (``127.0.0.1:port``), base path ``/api``."""
    definition: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": title, "version": "1"},
        "host": host,
        "basePath": "/api",
        "schemes": ["http"],
        "paths": {
            "/echo/{item}": {
                "get": _op("GetItem", parameters=[ITEM, QUERY]),
                "post": _op("PostItem", parameters=[ITEM, BODY]),
            },
            "/echo/latest": {"get": _op("GetLatest")},
            "/unauthorized": {"get": _op("Unauthorized")},
            "/binary": {"get": _op("Binary")},
        },
        "securityDefinitions": SECURITY[auth],
    }
    parameters = (
        {"username": plain("User"), "password": secure("Password")}
        if auth == "basic"
        else {"api_key": secure("API key")}
        if auth in ("header", "query")
        else {}
    )
    properties: dict[str, Any] = {"properties": {"connectionParameters": parameters}}
    if policies:
        properties["properties"]["policyTemplateInstances"] = policies
    files = {
        "apiDefinition.swagger.json": json.dumps(definition).encode(),
        "apiProperties.json": json.dumps(properties).encode(),
    }
    if script is not None:
        files["script.py"] = script.encode()
    return package_from_files(files)


def values_for(auth: str) -> dict[str, str]:
    if auth == "basic":
        return {"username": "ada", "password": PASSWORD}
    return {"api_key": KEY} if auth in ("header", "query") else {}


SET_HEADER = {
    "templateId": "setheader",
    "title": "Tag the request",
    "parameters": {
        "x-ms-apimTemplateParameter.name": "X-Policy",
        "x-ms-apimTemplateParameter.value": "from-policy",
        "x-ms-apimTemplateParameter.existsAction": "override",
        "x-ms-apimTemplate-policySection": "Request",
    },
}
UNAUTHENTICATED = {
    "templateId": "setconnectionstatustounauthenticated",
    "title": "Set unauthorized status",
    "parameters": {"statusCode": 401},
}
REWRITE_SCRIPT = """
class Script(ScriptBase):
    async def execute(self):
        request = self.context.request
        request.set_header("X-Scripted", self.context.operation_id)
        body = request.json() or {}
        body["rewritten"] = True
        request.set_json(body)
        return await self.context.send(request)
"""
