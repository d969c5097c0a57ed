"""Two real origins on loopback, a live Tether server, and connectors of every credential kind.

Origin A is the API a connector names: it redirects (``/api/hop/{status}``) to origin B, or to
itself (``/api/same/{status}``), or answers 202 with a Location on B (``/api/accept``). Origin B
records every request it receives, whole (headers, query, body), so a test can say what crossed.
A and B listen on different ports of 127.0.0.1: different origins, as RFC 6454 counts them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.definition import ConnectorPackage, package_from_files
from tether.store import Database, migrate

KEY = "k3y-must-not-cross-origins"
PASSWORD = "pa55-must-not-cross-origins"
BEARER = "Bearer b34rer-must-not-cross-origins"
ADMIN_PASSWORD = "security-admin-password"


@dataclass
class Seen:
    """One request as an origin received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        """Everything received, as one string to search for secrets."""
        return json.dumps([self.method, self.path, self.query, self.headers, self.body.decode("latin-1")])


@dataclass
class Origins:
    a: str
    b: str
    seen_a: list[Seen] = field(default_factory=list)
    seen_b: list[Seen] = field(default_factory=list)

    def clear(self) -> None:
        self.seen_a.clear()
        self.seen_b.clear()


async def _record(request: Request, into: list[Seen]) -> None:
    into.append(
        Seen(request.method, request.url.path, request.url.query, dict(request.headers), await request.body())
    )


def origin_b(seen: list[Seen]) -> Starlette:
    async def land(request: Request) -> Response:
        await _record(request, seen)
        return JSONResponse({"landed": "b"})

    return Starlette(routes=[Route("/{rest:path}", land, methods=["GET", "POST", "PUT", "DELETE"])])


def origin_a(seen: list[Seen], origins: Origins) -> Starlette:
    async def hop(request: Request) -> Response:
        await _record(request, seen)
        status = int(request.path_params["status"])
        return RedirectResponse(f"{origins.b}/land?from=a", status_code=status)

    async def same(request: Request) -> Response:
        await _record(request, seen)
        status = int(request.path_params["status"])
        return RedirectResponse(f"{origins.a}/api/land", status_code=status)

    async def accept(request: Request) -> Response:
        await _record(request, seen)
        return Response(status_code=202, headers={"Location": f"{origins.b}/status/1", "Retry-After": "0"})

    async def land(request: Request) -> Response:
        await _record(request, seen)
        return JSONResponse({"landed": "a"})

    every = ["GET", "POST", "PUT", "DELETE"]
    return Starlette(
        routes=[
            Route("/api/hop/{status}", hop, methods=every),
            Route("/api/same/{status}", same, methods=every),
            Route("/api/accept", accept, methods=every),
            Route("/api/land", land, methods=every),
        ]
    )


def serve_origins() -> Iterator[Origins]:
    """Start origins A and B (uvicorn threads on free loopback ports); stop them after."""
    origins = Origins("", "")
    with serve_in_thread(origin_b(origins.seen_b)) as b:  # type: ignore[arg-type]
        origins.b = b
        with serve_in_thread(origin_a(origins.seen_a, origins)) as a:  # type: ignore[arg-type]
            origins.a = a
            yield origins


# --- connectors ------------------------------------------------------------------------------------


def _op(operation_id: str, method: str) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [{"name": "status", "in": "path", "required": True, "type": "string"}]
    if method == "post":
        parameters.append({"name": "body", "in": "body", "schema": {"type": "object"}})
    responses = {"200": {"description": "ok"}}
    return {"operationId": operation_id, "parameters": parameters, "responses": responses}


SECURITY: dict[str, dict[str, Any]] = {
    "header": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
    "query": {"key": {"type": "apiKey", "in": "query", "name": "key"}},
    "basic": {"basic": {"type": "basic"}},
    "bearer": {"bearer": {"type": "apiKey", "in": "header", "name": "Authorization"}},
}


def _secure(label: str) -> dict[str, Any]:
    required = {"displayName": label, "constraints": {"required": "true"}}
    return {"type": "securestring", "uiDefinition": required}


def _plain(label: str) -> dict[str, Any]:
    return {"type": "string", "uiDefinition": {"displayName": label, "constraints": {"required": "true"}}}


def hop_package(host: str, auth: str, *, oauth: dict[str, Any] | None = None) -> ConnectorPackage:
    """A connector for origin A (``host`` is ``127.0.0.1:port``) with ``auth`` credentials."""
    definition: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": f"Hop {auth}", "version": "1"},
        "host": host,
        "basePath": "/api",
        "schemes": ["http"],
        "paths": {
            "/hop/{status}": {"get": _op("HopGet", "get"), "post": _op("HopPost", "post")},
            "/same/{status}": {"get": _op("SameGet", "get")},
            "/accept": {"post": {"operationId": "Accept", "responses": {"202": {"description": "later"}}}},
        },
    }
    if auth in SECURITY:
        definition["securityDefinitions"] = SECURITY[auth]
    parameters: dict[str, Any]
    if auth == "oauth":
        parameters = {"token": {"type": "oauthSetting", "oAuthSettings": oauth}}
    elif auth == "basic":
        parameters = {"username": _plain("User"), "password": _secure("Password")}
    else:
        parameters = {"api_key": _secure("Key")}
    files = {
        "apiDefinition.swagger.json": json.dumps(definition).encode(),
        "apiProperties.json": json.dumps({"properties": {"connectionParameters": parameters}}).encode(),
    }
    return package_from_files(files)


def values_for(auth: str) -> dict[str, str]:
    if auth == "basic":
        return {"username": "ada", "password": PASSWORD}
    if auth == "bearer":
        return {"api_key": BEARER}
    return {} if auth == "oauth" else {"api_key": KEY}


# --- a live Tether server -------------------------------------------------------------------------


@dataclass
class Live:
    url: str
    http: httpx.Client
    db: Database

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{self.url}/api/v1{path}", **kwargs)


def serve_tether(home: Path, **settings: Any) -> Iterator[Live]:
    """A Tether server on SQLite under ``home``, an admin token, loopback allowed in ``default``."""
    config = load_settings(home=home, admin_password=ADMIN_PASSWORD, **settings)
    database = Database(config.database_url)
    migrate(database)
    services.bootstrap(database, config)
    try:
        with serve_in_thread(create_app(config, database)) as url, httpx.Client(timeout=60) as http:
            token = http.post(f"{url}/api/v1/tokens", json={"name": "t"}, auth=("admin", ADMIN_PASSWORD))
            http.headers["Authorization"] = f"Bearer {token.json()['token']}"
            live = Live(url, http, database)
            allowed = live.api("PUT", "/environments/default/settings", json={"network_allow": ["127.0.0.1"]})
            assert allowed.status_code == 200, allowed.text
            yield live
    finally:
        database.close()


def upload(live: Live, package: ConnectorPackage, name: str) -> dict[str, Any]:
    files = {"package": (f"{name}.zip", package.to_zip(), "application/zip")}
    answer = live.api("POST", "/environments/default/connectors", files=files, data={"name": name})
    assert answer.status_code == 201, answer.text
    return answer.json()


def connect(live: Live, connector: str, values: dict[str, str]) -> str:
    answer = live.api(
        "POST", "/environments/default/connections", json={"connector": connector, "parameters": values}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])
