"""Custom code end to end: real worker processes, a fake transport ``send``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest

from tether.definition import compile_api
from tether.runtime import ConnectionContext, Exchange
from tether.runtime.script import (
    ScriptFailed,
    ScriptForbidden,
    ScriptLimits,
    ScriptMemoryError,
    ScriptPool,
    ScriptSyntaxError,
    ScriptTimeout,
    ScriptTooLarge,
    build_script_stage,
)

API = compile_api(
    {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "api.example.com",
        "paths": {
            "/items": {
                "post": {"operationId": "CreateItem", "responses": {"200": {}}},
                "get": {"operationId": "ListItems", "responses": {"200": {}}},
            }
        },
    }
)
LIMITS = ScriptLimits(timeout=2.0, memory_bytes=256 * 1024 * 1024)

REWRITE = """
import json


class Script(ScriptBase):
    async def execute(self):
        request = self.context.request
        request.set_header("X-Correlation", self.context.correlation_id)
        body = request.json()
        body["source"] = self.context.operation_id
        request.set_json(body)
        self.context.logger.info("sending %s", request.url)
        response = await self.context.send(request)
        items = response.json()["value"]
        response.set_json({"count": len(items), "names": [item["name"] for item in items]})
        return response
"""


def script(*lines: str) -> str:
    """A script whose ``execute`` body is ``lines`` (the first one is line 3)."""
    return "class Script(ScriptBase):\n    async def execute(self):\n" + "".join(
        f"        {line}\n" for line in lines
    )


@pytest.fixture(scope="module")
def pool() -> Iterator[ScriptPool]:
    pool = ScriptPool(1, limits=LIMITS)
    yield pool
    asyncio.run(pool.aclose())


class Transport:
    """A fake transport: records requests, answers a fixed JSON list."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def __call__(self, exchange: Exchange) -> httpx.Response:
        self.requests.append(exchange.request)
        return httpx.Response(200, json={"value": [{"name": "a"}, {"name": "b"}]}, request=exchange.request)


def run(source: str, pool: ScriptPool, operation_id: str = "CreateItem", operations=None):
    stage = build_script_stage(source, operations, pool=pool, limits=LIMITS)
    request = httpx.Request("POST", "https://api.example.com/items", json={"name": "n"})
    exchange = Exchange(
        api=API,
        operation=API.operation(operation_id),
        connection=ConnectionContext(),
        request=request,
        correlation_id="corr-1",
    )
    transport = Transport()
    response = asyncio.run(stage(exchange, transport))
    return response, transport


def test_script_rewrites_the_request_and_the_response(pool: ScriptPool) -> None:
    response, transport = run(REWRITE, pool)
    (sent,) = transport.requests
    assert sent.headers["x-correlation"] == "corr-1"
    assert json.loads(sent.content) == {"name": "n", "source": "CreateItem"}
    assert int(sent.headers["content-length"]) == len(sent.content)
    assert response.status_code == 200
    assert response.json() == {"count": 2, "names": ["a", "b"]}


def test_operations_outside_script_operations_pass_through(pool: ScriptPool) -> None:
    response, transport = run(
        "this is not even python", pool, operation_id="ListItems", operations=["CreateItem"]
    )
    assert response.json() == {"value": [{"name": "a"}, {"name": "b"}]}
    assert len(transport.requests) == 1


@pytest.mark.parametrize(
    ("source", "error", "message", "line"),
    [
        pytest.param(
            script("while True:", "    pass"),
            ScriptTimeout,
            "did not finish within 2 s",
            (3, 4),
            id="timeout",
        ),
        pytest.param(
            script("data = {}", "return data['x']"),
            ScriptFailed,
            "KeyError: 'x'",
            4,
            id="exception",
        ),
        pytest.param(
            "import socket\n\nclass Script(ScriptBase):\n    pass\n",
            ScriptForbidden,
            "may not import 'socket'",
            1,
            id="forbidden-import",
        ),
        pytest.param(
            "import asyncio\n\nclass Script(ScriptBase):\n    async def execute(self):\n"
            "        await asyncio.open_connection('127.0.0.1', 9)\n",
            ScriptForbidden,
            "network access",
            5,
            id="forbidden-network",
        ),
        pytest.param(
            script("return open('/etc/passwd').read()"),
            ScriptForbidden,
            "may not open files ('/etc/passwd')",
            3,
            id="forbidden-file",
        ),
        pytest.param(
            script("big = bytearray(1 << 33)"),
            ScriptMemoryError,
            "out of memory",
            3,
            id="memory",
        ),
        pytest.param(
            "class Script(ScriptBase):\n    async def execute(self)\n        pass\n",
            ScriptSyntaxError,
            "expected ':'",
            2,
            id="syntax",
        ),
    ],
)
def test_script_failures_are_clear(pool: ScriptPool, source: str, error: type, message: str, line) -> None:
    with pytest.raises(error) as caught:
        run(source, pool)
    assert message in caught.value.message
    lines = line if isinstance(line, tuple) else (line,)  # a loop may be stopped on either of its lines
    assert caught.value.line in lines
    assert caught.value.message.startswith(f"script.py:{caught.value.line}: ")


def test_oversize_script_is_refused_before_running() -> None:
    source = "# " + "x" * (1024 * 1024) + "\n"
    with pytest.raises(ScriptTooLarge, match="limit is 1,048,576 bytes"):
        build_script_stage(source, None, pool=ScriptPool(1))


def test_the_worker_survives_a_failed_script(pool: ScriptPool) -> None:
    with pytest.raises(ScriptFailed):
        run("class Script(ScriptBase):\n    async def execute(self):\n        raise ValueError('no')\n", pool)
    response, _ = run(REWRITE, pool)
    assert response.json()["count"] == 2


def test_a_script_stuck_in_c_code_is_killed(pool: ScriptPool) -> None:
    source = "class Script(ScriptBase):\n    async def execute(self):\n        return sum(range(10 ** 12))\n"
    with pytest.raises(ScriptTimeout, match="it was stopped"):
        run(source, pool)
    response, _ = run(REWRITE, pool)  # a fresh worker takes over
    assert response.json()["count"] == 2
