"""Bearer schemes imported from real files are sent as ``Authorization: Bearer …`` by invoke.

Stripe's OpenAPI 3 ``http``/``bearer`` scheme (trimmed to one path) and the Twitter API v2
Postman collection's bearer auth both import as the ``api_key`` connection parameter; a
connection made with a token then calls a real loopback server that records the headers
it received. Before the fix, the connection said "connected" and no header was sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.api.conftest import Api
from tether.api import serve_in_thread
from tether.definition import DEFINITION_FILE, package_from_files
from tether.importers import import_openapi, import_postman

ENV = "/api/v1/environments/default"
DATA = Path(__file__).parents[1] / "importers" / "data"
TOKEN = "tok-3f9a1c-bearer-only"
RECEIVED: list[dict[str, str]] = []


def _recorder() -> Starlette:
    async def record(request: Request) -> JSONResponse:
        RECEIVED.append({"path": request.url.path, "authorization": request.headers.get("authorization", "")})
        return JSONResponse({"id": "txcd_1", "object": "tax_code", "name": "n", "description": "d"})

    return Starlette(routes=[Route("/{rest:path}", record, methods=["GET", "POST"])])


@pytest.fixture(scope="module")
def recorder() -> Iterator[str]:
    with serve_in_thread(_recorder()) as url:  # type: ignore[arg-type]
        yield url


def _pointed_at(package, url: str, *, swagger: bool):
    data = package.definition.data
    if swagger:
        data["host"], data["schemes"], data["basePath"] = url.removeprefix("http://"), ["http"], "/"
    else:
        data["servers"] = [{"url": url}]
    return package_from_files({**package.files, DEFINITION_FILE: json.dumps(data).encode()})


def _invoke(api: Api, headers: dict[str, str], package, operation: str, body: dict, arguments: dict) -> None:
    answer = api.client.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}, headers=headers)
    assert answer.status_code == 200, answer.text
    files = {"package": ("c.zip", package.to_zip(), "application/zip")}
    connector = api.client.post(f"{ENV}/connectors", files=files, headers=headers)
    assert connector.status_code == 201, connector.text
    connection = api.client.post(
        f"{ENV}/connections", json={"connector": connector.json()["id"], **body}, headers=headers
    )
    assert connection.status_code == 201, connection.text
    answer = api.client.post(
        f"{ENV}/connections/{connection.json()['id']}/invoke/{operation}", json=arguments, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert TOKEN not in answer.text


def test_openapi_http_bearer_is_sent(api: Api, admin_headers: dict[str, str], recorder: str) -> None:
    result = import_openapi(DATA / "stripe-tax-codes.yaml")
    sets = result.package.properties.data["properties"]["connectionParameterSets"]["values"]
    bearer = next(s for s in sets if s["name"] == "bearerAuth")
    assert set(bearer["parameters"]) == {"api_key"}
    RECEIVED.clear()
    package = _pointed_at(result.package, recorder, swagger=False)
    body = {"parameter_set": "bearerAuth", "parameters": {"api_key": TOKEN}}
    _invoke(api, admin_headers, package, "GetTaxCodesId", body, {"id": "txcd_1"})
    assert [{"path": "/v1/tax_codes/txcd_1", "authorization": f"Bearer {TOKEN}"}] == RECEIVED


@pytest.mark.parametrize("typed", [TOKEN, f"Bearer {TOKEN}"], ids=["token", "bearer-prefixed"])
def test_postman_bearer_is_sent(api: Api, admin_headers: dict[str, str], recorder: str, typed: str) -> None:
    source = DATA / "twitter-api-v2-sampled-stream.postman_collection.json"
    result = import_postman(source.read_bytes(), name=source.name)
    assert set(result.package.properties.data["properties"]["connectionParameters"]) == {"api_key"}
    RECEIVED.clear()
    package = _pointed_at(result.package, recorder, swagger=True)
    stream = package.definition.data["paths"]["/2/tweets/sample/stream"]
    operation = next(iter(stream.values()))["operationId"]
    _invoke(api, admin_headers, package, operation, {"parameters": {"api_key": typed}}, {})
    assert [{"path": "/2/tweets/sample/stream", "authorization": f"Bearer {TOKEN}"}] == RECEIVED
