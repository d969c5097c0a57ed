"""Runtime overhead benchmark: what does a call through Tether cost over calling the API directly?

Backend: nginx serving a fixed JSON body on a loopback port. Compared in one run:

- ``nginx direct``      wrk ⇒ nginx (the ceiling);
- ``nginx proxy_pass``  wrk ⇒ nginx ⇒ nginx (what a plain reverse proxy costs);
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
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from tether.definition import compile_api
from tether.runtime import ConnectionContext, NetworkPolicy, Runtime

RESULTS = Path(__file__).parent / "results"
BODY = json.dumps({"id": 42, "name": "tether", "tags": ["a", "b", "c"], "ok": True})
SPEC = {
    "swagger": "2.0",
    "info": {"title": "bench", "version": "1"},
    "paths": {"/data": {"get": {"operationId": "GetData", "responses": {"200": {
        "description": "ok",
        "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    }}}}},
}  # fmt: skip
MAX_CALLS = 200_000  # bound on in-process loops, beside the time bound
CONCURRENCY = (1, 32)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def nginx_config(folder: Path, backend: int, proxy: int) -> Path:
    body = BODY.replace("'", "\\'")
    config = f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
    upstream backend {{ server 127.0.0.1:{backend}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{backend};
        location / {{ default_type application/json; return 200 '{body}'; }}
    }}
    server {{
        listen 127.0.0.1:{proxy};
        location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }}
    }}
}}
"""
    path = folder / "nginx.conf"
    path.write_text(config)
    return path


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


_WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    threads = 1 if concurrency == 1 else 2
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    latency = {f"p{m[0]}": float(m[1]) * _UNITS[m[2]] for m in _WRK_LATENCY.findall(output)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"p50_ms": latency.get("p50"), "p99_ms": latency.get("p99"), "rps": rps,
            "errors": int(errors.group(1)) if errors else 0}  # fmt: skip


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
    parser.add_argument("--serve-tether", nargs=2, metavar=("PORT", "BACKEND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_tether:
        serve_tether(int(args.serve_tether[0]), args.serve_tether[1])
        return
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install -y nginx wrk")

    folder = Path(tempfile.mkdtemp(prefix="tether-bench-"))
    backend_port, proxy_port, tether_port = free_port(), free_port(), free_port()
    backend = f"http://127.0.0.1:{backend_port}"
    nginx = subprocess.Popen(
        ["nginx", "-c", str(nginx_config(folder, backend_port, proxy_port)), "-g", "daemon off;"]
    )
    tether = subprocess.Popen([sys.executable, __file__, "--serve-tether", str(tether_port), backend])
    try:
        wait_for(f"{backend}/data")
        wait_for(f"http://127.0.0.1:{proxy_port}/data")
        wait_for(f"http://127.0.0.1:{tether_port}/invoke")
        rows: dict[str, dict[int, dict[str, Any]]] = {
            "nginx direct": {},
            "nginx proxy_pass": {},
            "tether http": {},
        }
        targets = {
            "nginx direct": f"{backend}/data",
            "nginx proxy_pass": f"http://127.0.0.1:{proxy_port}/data",
            "tether http": f"http://127.0.0.1:{tether_port}/invoke",
        }
        for name, url in targets.items():
            for concurrency in CONCURRENCY:
                rows[name][concurrency] = wrk(url, concurrency, args.seconds)
        rows.update(asyncio.run(in_process_rows(backend, args.seconds)))
    finally:
        for process in (tether, nginx):
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    report(rows, args.seconds)


def report(rows: dict[str, dict[int, dict[str, Any]]], seconds: float) -> None:
    print(f"{'target':<18} {'conc':>4} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>10}")
    for name, by_concurrency in rows.items():
        for concurrency, row in by_concurrency.items():
            print(
                f"{name:<18} {concurrency:>4} {row['p50_ms']:>8.3f} {row['p99_ms']:>8.3f} {row['rps']:>10.0f}"
            )
    summary = {
        "added_p50_ms_in_process_c1": rows["runtime.invoke"][1]["p50_ms"] - rows["httpx direct"][1]["p50_ms"],
        "added_p50_ms_http_vs_proxy_c1": rows["tether http"][1]["p50_ms"]
        - rows["nginx proxy_pass"][1]["p50_ms"],
        "throughput_http_vs_nginx_direct_c32": rows["tether http"][32]["rps"]
        / rows["nginx direct"][32]["rps"],
        "throughput_http_vs_nginx_proxy_c32": rows["tether http"][32]["rps"]
        / rows["nginx proxy_pass"][32]["rps"],
        "throughput_invoke_vs_httpx_c32": rows["runtime.invoke"][32]["rps"] / rows["httpx direct"][32]["rps"],
    }
    print()
    for key, value in summary.items():
        print(f"{key:<40} {value:.3f}")
    targets = {"added_p50_ms": 2.0, "throughput_ratio_vs_nginx": 0.25}
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"runtime-{stamp}.json"
    document = {
        "stamp": stamp,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "seconds_per_measurement": seconds,
        "rows": {name: {str(c): row for c, row in by.items()} for name, by in rows.items()},
        "summary": summary,
        "targets": targets,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwritten {path}")


if __name__ == "__main__":
    main()
