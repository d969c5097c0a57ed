"""The ``/apim`` pass-through takes invoke's road: a 202 + Location is polled to its answer, and a
pageable operation's pages come back merged, against a real upstream on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.security._kit import Live, connect, serve_tether, upload
from tether.api import serve_in_thread
from tether.definition import package_from_files


def _upstream() -> Starlette:
    async def items(request: Request) -> Response:
        base = f"{request.url.scheme}://{request.url.netloc}"
        if request.query_params.get("page") == "2":
            return JSONResponse({"value": [3]})
        return JSONResponse({"value": [1, 2], "nextLink": f"{base}/api/items?page=2"})

    async def start(request: Request) -> Response:
        return Response(status_code=202, headers={"Location": "/api/jobs/1", "Retry-After": "0"})

    async def job(request: Request) -> Response:
        return JSONResponse({"done": True})

    return Starlette(
        routes=[
            Route("/api/items", items),
            Route("/api/jobs", start, methods=["POST"]),
            Route("/api/jobs/1", job),
        ]
    )


def _package(host: str):
    ok = {"200": {"description": "ok"}}
    pageable = {"nextLinkName": "nextLink"}
    definition = {
        "swagger": "2.0",
        "info": {"title": "Road", "version": "1"},
        "host": host,
        "basePath": "/api",
        "schemes": ["http"],
        "paths": {
            "/items": {"get": {"operationId": "List", "x-ms-pageable": pageable, "responses": ok}},
            "/jobs": {"post": {"operationId": "Start", "responses": ok}},
        },
    }
    files = {
        "apiDefinition.swagger.json": json.dumps(definition).encode(),
        "apiProperties.json": json.dumps({"properties": {"connectionParameters": {}}}).encode(),
    }
    return package_from_files(files)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(_upstream()) as url:  # type: ignore[arg-type]
        yield url.removeprefix("http://")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from serve_tether(tmp_path_factory.mktemp("apim-home"))


def test_apim_polls_and_pages_like_invoke(live: Live, upstream: str) -> None:
    connector = upload(live, _package(upstream), "road")
    connection = connect(live, connector["id"], {})
    base = f"{live.url}/apim/{connector['id']}/{connection}"

    pages = live.http.get(f"{base}/items")
    assert pages.status_code == 200, pages.text
    assert pages.json() == {"value": [1, 2, 3]}

    done = live.http.post(f"{base}/jobs", json={})
    assert (done.status_code, done.json()) == (200, {"done": True})
