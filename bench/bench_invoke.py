"""Invoke endpoint benchmark: what does a call through Tether's API cost over calling the API directly?

Backend: nginx serving a fixed JSON body on a loopback port. Compared in one run, with load from
wrk (a second process) on loopback only:

- ``nginx direct``        wrk ⇒ nginx (the ceiling);
- ``nginx proxy_pass``    wrk ⇒ nginx ⇒ nginx (what a plain reverse proxy costs);
- ``tether invoke xN``    wrk ⇒ ``tether serve --workers N`` (the real command: uvicorn, SQLite)
  ``POST …/invoke/GetData`` ⇒ nginx: authentication, permission check, connection credentials,
  the compiled connector, the environment's network policy, the runtime (policies, transport,
  response check) and the JSON answer, on every call;
- ``tether /apim xN``     the same through the pass-through route (``GET /apim/…/data``).

at concurrency 1 and 32, each bounded in time, with 1 and 2 server processes. The per-connection
rate limit is off (``TETHER_CONNECTION_RATE_LIMIT=0``), otherwise it would be what is measured.
Prints a table and writes ``bench/results/invoke-<stamp>.json``.

Run: ``.venv/bin/python bench/bench_invoke.py [--seconds 5]`` (needs ``nginx`` and ``wrk``:
``apt-get install -y nginx wrk``). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
from _loopback import CONCURRENCY, SPEC, Rows, free_port, nginx, report, require, wait_for, wrk

from tether.definition import package_from_files

PASSWORD = "bench-admin-password"
ENV = "/api/v1/environments/default"
WORKERS = (1, 2)
TARGETS = {"added_p50_ms": 2.0, "throughput_ratio_vs_nginx_proxy": 0.25}


@contextlib.contextmanager
def tether_serve(folder: Path, workers: int) -> Iterator[str]:
    """``tether serve --workers N`` on a fresh SQLite home, rate limit off; yields its URL."""
    port = free_port()
    env = {
        **os.environ,
        "TETHER_HOME": str(folder / f"home-{workers}"),
        "TETHER_ADMIN_PASSWORD": PASSWORD,
        "TETHER_CONNECTION_RATE_LIMIT": "0",
    }
    command = [
        str(Path(sys.executable).parent / "tether"),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    log = (folder / f"serve-{workers}.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/api/v1/health", timeout=60)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def set_up(tether: str, backend: str) -> tuple[str, str, str]:
    """Through the real API: a token, the bench connector pointed at nginx, loopback allowed, a connection."""
    definition = {**SPEC, "host": backend.removeprefix("http://"), "schemes": ["http"], "basePath": "/"}
    package = package_from_files({"apiDefinition.swagger.json": json.dumps(definition).encode()})
    with httpx.Client(base_url=tether, timeout=30) as http:
        token = http.post("/api/v1/tokens", json={"name": "bench"}, auth=("admin", PASSWORD)).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        files = {"package": ("bench.zip", package.to_zip(), "application/zip")}
        connector = http.post(f"{ENV}/connectors", files=files).json()
        http.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}).raise_for_status()
        connection = http.post(f"{ENV}/connections", json={"connector": connector["id"]}).json()["id"]
        check = http.post(f"{ENV}/connections/{connection}/invoke/GetData").json()
        if check["status"] != 200:
            raise RuntimeError(f"the bench call does not work: {check}")
    return token, connector["name"], connection


def lua(folder: Path, name: str, method: str, token: str) -> Path:
    path = folder / f"{name}.lua"
    path.write_text(
        f'wrk.method = "{method}"\nwrk.headers["Authorization"] = "Bearer {token}"\n'
        + ('wrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n' if method == "POST" else "")
    )
    return path


def measure(seconds: float) -> Rows:
    folder = Path(tempfile.mkdtemp(prefix="tether-bench-invoke-"))
    rows: Rows = {}
    try:
        with nginx(folder) as urls:
            for name, url in (("nginx direct", urls.backend), ("nginx proxy_pass", urls.proxy)):
                rows[name] = {c: wrk(f"{url}/data", c, seconds) for c in CONCURRENCY}
            for workers in WORKERS:
                with tether_serve(folder, workers) as tether:
                    token, connector, connection = set_up(tether, urls.backend)
                    invoke = f"{tether}{ENV}/connections/{connection}/invoke/GetData"
                    apim = f"{tether}/apim/{connector}/{connection}/data"
                    for name, url, script in (
                        (f"tether invoke x{workers}", invoke, lua(folder, "invoke", "POST", token)),
                        (f"tether /apim x{workers}", apim, lua(folder, "apim", "GET", token)),
                    ):
                        wrk(url, 4, 1, script)  # warm the caches and the connection pool
                        rows[name] = {c: wrk(url, c, seconds, script) for c in CONCURRENCY}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    args = parser.parse_args()
    require("nginx", "wrk")
    rows = measure(args.seconds)
    proxy = rows["nginx proxy_pass"]
    summary: dict[str, float] = {}
    for workers in WORKERS:
        for route in ("invoke", "/apim"):
            row = rows[f"tether {route} x{workers}"]
            key = route.strip("/")
            summary[f"added_p50_ms_{key}_c1_x{workers}"] = row[1]["p50_ms"] - proxy[1]["p50_ms"]
            summary[f"throughput_{key}_vs_proxy_c32_x{workers}"] = row[32]["rps"] / proxy[32]["rps"]
    report("invoke", rows, summary, args.seconds, targets=TARGETS)


if __name__ == "__main__":
    main()
