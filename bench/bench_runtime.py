"""Runtime overhead benchmark: what does a call through Tether cost over calling the API directly?

Backend: nginx serving a fixed JSON body on a loopback port. Compared in one run:

- ``nginx direct``      wrk ⇒ nginx (the ceiling);
- ``nginx proxy_pass``  wrk ⇒ nginx ⇒ nginx (what a plain reverse proxy costs);
- ``python floor``      wrk ⇒ a bare ASGI app on uvicorn forwarding with aiohttp ⇒ nginx: no framework,
  no runtime — the fastest a Python proxy on these libraries gets on this machine;
- ``tether http``       wrk ⇒ a minimal Starlette/uvicorn app calling ``Runtime.invoke`` ⇒ nginx;
- ``httpx direct``      in-process httpx.AsyncClient ⇒ nginx (the in-process baseline);
- ``runtime.invoke``    in-process ``Runtime.invoke`` ⇒ nginx.

at concurrency 1 and 32, each bounded in time. Load comes from a second process (wrk) on
loopback only. Prints a table and writes ``bench/results/runtime-<stamp>.json``.

Run: ``.venv/bin/python bench/bench_runtime.py [--seconds 5]`` (needs ``nginx`` and ``wrk``:
``apt-get install -y nginx wrk``). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from _loopback import CONCURRENCY, SPEC, Rows, free_port, nginx, report, require, wait_for, wrk

from tether.definition import compile_api
from tether.runtime import ConnectionContext, NetworkPolicy, Runtime

MAX_CALLS = 200_000  # bound on in-process loops, beside the time bound


def serve_floor(port: int, backend: str) -> None:
    """The floor (run in its own process): any request ⇒ one aiohttp GET to nginx ⇒ its body, raw ASGI."""
    import aiohttp
    import uvicorn

    sessions: list[aiohttp.ClientSession] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:  # a proxy reads what it is sent (bench_invoke's requests are POSTs with a body)
            message = await receive()
            more = message.get("more_body", False)
        if not sessions:
            sessions.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)))
        async with sessions[0].get(f"{backend}/data") as upstream:
            body, status = await upstream.read(), upstream.status
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


def serve_tether(port: int, backend: str) -> None:
    """The HTTP wrapper (run in its own process): GET /invoke ⇒ Runtime.invoke ⇒ nginx."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    api = compile_api(SPEC, name="bench")
    connection = ConnectionContext(connection_id="bench", base_url=backend)
    runtimes: list[Runtime] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with Runtime(network_policy=NetworkPolicy(allow_loopback=True), rate_limit=None) as runtime:
            runtimes.append(runtime)
            yield

    async def invoke(request: Request) -> JSONResponse:
        result = await runtimes[0].invoke(api, "GetData", connection=connection)
        return JSONResponse(result.body, status_code=result.status)

    app = Starlette(routes=[Route("/invoke", invoke)], lifespan=lifespan)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def in_process(call: Any, concurrency: int, seconds: float) -> dict[str, Any]:
    for _ in range(50):  # warm the pool and the caches
        await call()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline and len(latencies) < MAX_CALLS:
            started = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "rps": len(latencies) / elapsed,
        "calls": len(latencies),
    }


async def in_process_rows(backend: str, seconds: float) -> dict[str, dict[int, dict[str, Any]]]:
    api = compile_api(SPEC, name="bench")
    connection = ConnectionContext(connection_id="bench", base_url=backend)
    rows: dict[str, dict[int, dict[str, Any]]] = {"httpx direct": {}, "runtime.invoke": {}}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=200)) as client:

        async def direct() -> None:
            response = await client.get(f"{backend}/data")
            response.json()

        for concurrency in CONCURRENCY:
            rows["httpx direct"][concurrency] = await in_process(direct, concurrency, seconds)
    async with Runtime(network_policy=NetworkPolicy(allow_loopback=True), rate_limit=None) as runtime:

        async def invoke() -> None:
            await runtime.invoke(api, "GetData", connection=connection)

        for concurrency in CONCURRENCY:
            rows["runtime.invoke"][concurrency] = await in_process(invoke, concurrency, seconds)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "PORT", "BACKEND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        kind, port, backend = args.serve
        (serve_floor if kind == "floor" else serve_tether)(int(port), backend)
        return
    require("nginx", "wrk")
    folder = Path(tempfile.mkdtemp(prefix="tether-bench-"))
    tether_port, floor_port = free_port(), free_port()
    try:
        with nginx(folder) as urls:
            servers = [
                subprocess.Popen([sys.executable, __file__, "--serve", kind, str(port), urls.backend])
                for kind, port in (("tether", tether_port), ("floor", floor_port))
            ]
            try:
                wait_for(f"http://127.0.0.1:{tether_port}/invoke")
                wait_for(f"http://127.0.0.1:{floor_port}/data")
                targets = {
                    "nginx direct": f"{urls.backend}/data",
                    "nginx proxy_pass": f"{urls.proxy}/data",
                    "python floor": f"http://127.0.0.1:{floor_port}/data",
                    "tether http": f"http://127.0.0.1:{tether_port}/invoke",
                }
                rows: Rows = {
                    name: {c: wrk(url, c, args.seconds) for c in CONCURRENCY} for name, url in targets.items()
                }
                rows.update(asyncio.run(in_process_rows(urls.backend, args.seconds)))
            finally:
                for server in servers:
                    server.terminate()
                    server.wait(timeout=10)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary = {
        "added_p50_ms_in_process_c1": rows["runtime.invoke"][1]["p50_ms"] - rows["httpx direct"][1]["p50_ms"],
        "added_p50_ms_http_vs_proxy_c1": rows["tether http"][1]["p50_ms"]
        - rows["nginx proxy_pass"][1]["p50_ms"],
        "throughput_http_vs_nginx_direct_c32": rows["tether http"][32]["rps"]
        / rows["nginx direct"][32]["rps"],
        "throughput_http_vs_nginx_proxy_c32": rows["tether http"][32]["rps"]
        / rows["nginx proxy_pass"][32]["rps"],
        "throughput_floor_vs_nginx_proxy_c32": rows["python floor"][32]["rps"]
        / rows["nginx proxy_pass"][32]["rps"],
        "throughput_http_vs_floor_c32": rows["tether http"][32]["rps"] / rows["python floor"][32]["rps"],
        "throughput_invoke_vs_httpx_c32": rows["runtime.invoke"][32]["rps"] / rows["httpx direct"][32]["rps"],
    }
    report(
        "runtime",
        rows,
        summary,
        args.seconds,
        targets={"added_p50_ms": 2.0, "throughput_ratio_vs_nginx": 0.25},
    )


if __name__ == "__main__":
    main()
