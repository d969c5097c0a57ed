"""Small helpers for policy tests: a compiled one-operation API, an exchange, a recording ``send``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

from tether.definition import Api, compile_api
from tether.runtime import ConnectionContext, Exchange
from tether.runtime.policies import build_policy_stage

Responder = Callable[[httpx.Request], httpx.Response]


def api_for(
    path: str,
    method: str = "get",
    operation_id: str = "Op",
    *,
    host: str = "api.example.com",
    base_path: str = "/",
    pageable: str | None = None,
) -> Api:
    """A Swagger 2.0 API with one operation (path parameters declared from ``{...}``)."""
    parameters = [
        {"name": part[1:-1], "in": "path", "required": True, "type": "string"}
        for part in path.split("/")
        if part.startswith("{") and part.endswith("}")
    ]
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "parameters": parameters,
        "responses": {"200": {}},
    }
    if pageable:
        operation["x-ms-pageable"] = {"nextLinkName": pageable}
    document = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": host,
        "basePath": base_path,
        "schemes": ["https"],
        "paths": {path: {method: operation}},
    }
    return compile_api(document, name="test")


class Recorder:
    """A fake transport ``send``: records every exchange, answers with ``responder``."""

    def __init__(self, responder: Responder | None = None) -> None:
        self.exchanges: list[Exchange] = []
        self.responder = responder or (lambda request: httpx.Response(200, json={}))

    async def __call__(self, exchange: Exchange) -> httpx.Response:
        self.exchanges.append(exchange)
        response = self.responder(exchange.request)
        response.request = exchange.request
        return response

    @property
    def request(self) -> httpx.Request:
        """The last request sent."""
        return self.exchanges[-1].request


def call(
    instances: list[dict[str, Any]],
    api: Api,
    url: str,
    *,
    operation_id: str = "Op",
    method: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    connection: dict[str, Any] | None = None,
    arguments: dict[str, Any] | None = None,
    responder: Responder | None = None,
) -> tuple[httpx.Response, Recorder]:
    """Run one call through a policy stage built from ``instances``; answer and recorder."""
    operation = api.operation(operation_id)
    content = json.dumps(body).encode() if body is not None else b""
    request_headers = {"content-type": "application/json", **(headers or {})} if body is not None else headers
    request = httpx.Request(method or operation.method.upper(), url, headers=request_headers, content=content)
    exchange = Exchange(
        api=api,
        operation=operation,
        connection=ConnectionContext(connection_id="c1", parameters=connection or {}),
        request=request,
        arguments=arguments or {},
    )
    recorder = Recorder(responder)
    stage = build_policy_stage(api, instances)
    response = asyncio.run(stage(exchange, recorder))
    return response, recorder


def sent_json(recorder: Recorder, index: int = -1) -> Any:
    """The JSON body of a sent request."""
    return json.loads(recorder.exchanges[index].request.content)
