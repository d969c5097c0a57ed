"""MCP benchmark: what does a tool call cost over calling the invoke endpoint directly?

One backend (nginx answering a fixed JSON body on loopback) and one ``tether serve`` (the real
command, SQLite, connection rate limit off), set up through the API: a connector pointed at
nginx and a connection. Then, in the same run, sequential calls (concurrency 1, as an agent
makes them) of the connector's ``GetData`` operation:

- ``invoke (httpx)``        POST …/invoke/GetData with a keep-alive httpx client (the baseline);
- ``mcp http``              tools/call over streamable HTTP at ``/mcp`` with the MCP SDK's
                            ``ClientSession`` (its client, JSON-RPC, the tool catalog, then the
                            same services' invoke path);
- ``mcp stdio``             tools/call with ``ClientSession`` to ``tether mcp`` (a subprocess on
                            the same database), over stdin/stdout.

The three take turns in rounds so a busy machine slows them alike. Reports p50/p99 latency and
calls per second per path, and the MCP paths' added p50 milliseconds and ratio over invoke.
Writes ``bench/results/mcp-<stamp>.json``.

Run: ``.venv/bin/python bench/bench_mcp.py [--calls 300] [--rounds 3]`` (needs ``nginx``).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from _loopback import SPEC, Rows, free_port, nginx, report, require, wait_for
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from mcp import ClientSession, StdioServerParameters, stdio_client
from tether.definition import package_from_files

PASSWORD = "bench-admin-password"
ENV = "/api/v1/environments/default"
TETHER = str(Path(sys.executable).parent / "tether")


def tether_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TETHER_HOME": str(home),
        "TETHER_ADMIN_PASSWORD": PASSWORD,
        "TETHER_CONNECTION_RATE_LIMIT": "0",
    }


@contextlib.contextmanager
def tether_serve(folder: Path) -> Iterator[str]:
    """``tether serve`` (one process) on a fresh SQLite home; yields its URL."""
    port = free_port()
    log = (folder / "serve.log").open("w")
    command = [TETHER, "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=tether_env(folder / "home"), stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/api/v1/health", timeout=120)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def set_up(tether: str, backend: str) -> tuple[str, str]:
    """Through the API: a token and a connection to the bench connector (pointed at nginx)."""
    definition = {**SPEC, "host": backend.removeprefix("http://"), "schemes": ["http"], "basePath": "/"}
    package = package_from_files({"apiDefinition.swagger.json": json.dumps(definition).encode()})
    with httpx.Client(base_url=tether, timeout=60) as http:
        token = http.post("/api/v1/tokens", json={"name": "bench"}, auth=("admin", PASSWORD)).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        files = {"package": ("bench.zip", package.to_zip(), "application/zip")}
        connector = http.post(f"{ENV}/connectors", files=files).json()
        http.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}).raise_for_status()
        connection = http.post(f"{ENV}/connections", json={"connector": connector["id"]}).json()["id"]
    return token, connection


Call = Callable[[], Awaitable[None]]


@contextlib.asynccontextmanager
async def invoke_path(tether: str, token: str, connection: str) -> AsyncIterator[Call]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=tether, headers=headers, timeout=60) as http:
        path = f"{ENV}/connections/{connection}/invoke/GetData"

        async def call() -> None:
            answer = await http.post(path, json={})
            if answer.status_code != 200 or answer.json()["status"] != 200:
                raise RuntimeError(f"invoke failed: {answer.text[:300]}")

        yield call


async def _tool_call(session: ClientSession) -> Call:
    tools = [t.name for t in (await session.list_tools()).tools if t.name.endswith("__GetData")]
    if len(tools) != 1:
        raise RuntimeError(f"expected one GetData tool, got {tools}")

    async def call() -> None:
        result = await session.call_tool(tools[0], {})
        if result.isError:
            raise RuntimeError(f"tool call failed: {result.content}")

    return call


@contextlib.asynccontextmanager
async def mcp_http_path(tether: str, token: str) -> AsyncIterator[Call]:
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http,
        streamable_http_client(f"{tether}/mcp", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield await _tool_call(session)


@contextlib.asynccontextmanager
async def mcp_stdio_path(home: Path, token: str) -> AsyncIterator[Call]:
    env = {**tether_env(home), "TETHER_TOKEN": token}
    params = StdioServerParameters(command=TETHER, args=["mcp"], env=env)
    with open(os.devnull, "w") as quiet:
        async with stdio_client(params, errlog=quiet) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield await _tool_call(session)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(calls: int, rounds: int) -> Rows:
    folder = Path(tempfile.mkdtemp(prefix="tether-bench-mcp-"))
    samples: dict[str, list[float]] = {"invoke (httpx)": [], "mcp http": [], "mcp stdio": []}
    busy: dict[str, float] = dict.fromkeys(samples, 0.0)
    try:
        with nginx(folder) as urls, tether_serve(folder) as tether:
            token, connection = set_up(tether, urls.backend)
            async with (
                invoke_path(tether, token, connection) as invoke,
                mcp_http_path(tether, token) as over_http,
                mcp_stdio_path(folder / "home", token) as over_stdio,
            ):
                paths: dict[str, Call] = {
                    "invoke (httpx)": invoke,
                    "mcp http": over_http,
                    "mcp stdio": over_stdio,
                }
                for call in paths.values():  # warm caches, pools and the tool catalogs
                    for _ in range(20):
                        await call()
                for _round in range(rounds):
                    for name, call in paths.items():
                        started_round = time.perf_counter()
                        for _ in range(calls):
                            started = time.perf_counter()
                            await call()
                            samples[name].append((time.perf_counter() - started) * 1000)
                        busy[name] += time.perf_counter() - started_round
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows: Rows = {}
    for name, values in samples.items():
        rows[name] = {1: {"p50_ms": statistics.median(values), "p99_ms": _percentile(values, 0.99),
                          "rps": len(values) / busy[name], "errors": 0}}  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per path per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (paths take turns)")
    args = parser.parse_args()
    require("nginx")
    rows = asyncio.run(measure(args.calls, args.rounds))
    base = rows["invoke (httpx)"][1]
    summary: dict[str, Any] = {}
    for name in ("mcp http", "mcp stdio"):
        key = name.replace(" ", "_")
        summary[f"added_p50_ms_{key}"] = rows[name][1]["p50_ms"] - base["p50_ms"]
        summary[f"p50_ratio_{key}_vs_invoke"] = rows[name][1]["p50_ms"] / base["p50_ms"]
    report("mcp", rows, summary, 0.0, calls_per_round=args.calls, rounds=args.rounds)


if __name__ == "__main__":
    main()
