"""Invoke endpoint benchmark: what does a call through Tether's API cost over calling the API directly?

Backend: nginx serving a fixed JSON body on a loopback port. Compared in one run, with load from
wrk (a second process) on loopback only:

- ``nginx direct``      wrk ⇒ nginx (the ceiling);
- ``nginx proxy_pass``  wrk ⇒ nginx ⇒ nginx (what a plain reverse proxy costs);
- ``tether invoke``     wrk ⇒ ``tether serve``'s app (uvicorn, SQLite) ``POST …/invoke/GetData``
  ⇒ nginx: authentication, permission check, connection decryption, the compiled-connector cache,
  the environment's network policy, the runtime, and the JSON answer, all per call;
- ``tether /apim``      the same through the pass-through route (``GET /apim/…/data``).

at concurrency 1 and 32, each bounded in time. The per-connection rate limit is off (the
server process sets ``ConnectorRuntime(rate_limit=None)``), otherwise it would be what is measured.
Prints a table and writes ``bench/results/invoke-<stamp>.json``.

Run: ``.venv/bin/python bench/bench_invoke.py [--seconds 5]`` (needs ``nginx`` and ``wrk``:
``apt-get install -y nginx wrk``). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_runtime import (  # the shared pieces: nginx, ports, wrk's output
    _UNITS,
    _WRK_LATENCY,
    CONCURRENCY,
    RESULTS,
    SPEC,
    free_port,
    nginx_config,
    wait_for,
)

from tether.definition import package_from_files

PASSWORD = "bench-admin-password"
ENV = "/api/v1/environments/default"


def serve_tether(port: int, home: str) -> None:
    """``tether serve``'s app in this process, with the connector runtime's rate limit off."""
    import uvicorn

    from tether.api import create_app
    from tether.cli.serve import open_database
    from tether.config import load_settings
    from tether.services import ConnectorRuntime

    settings = load_settings(home=Path(home), admin_password=PASSWORD)
    app = create_app(settings, open_database(settings))
    app.state.connector_runtime = ConnectorRuntime(rate_limit=None)
    app.state.connector_runtime_owned = True
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def set_up(tether: str, backend_port: int) -> tuple[str, str, str]:
    """Through the real API: a token, the bench connector pointed at nginx, loopback allowed, a connection."""
    definition = {**SPEC, "host": f"127.0.0.1:{backend_port}", "schemes": ["http"], "basePath": "/"}
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


def wrk(url: str, concurrency: int, seconds: float, script: Path | None = None) -> dict[str, Any]:
    """bench_runtime's wrk run, plus a Lua script for the POST with its token."""
    threads = 1 if concurrency == 1 else 2
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency"]
    command += ["-s", str(script)] if script else []
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    latency = {f"p{m[0]}": float(m[1]) * _UNITS[m[2]] for m in _WRK_LATENCY.findall(output)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"p50_ms": latency.get("p50"), "p99_ms": latency.get("p99"), "rps": rps,
            "errors": int(errors.group(1)) if errors else 0}  # fmt: skip


def lua(folder: Path, name: str, method: str, token: str) -> Path:
    path = folder / f"{name}.lua"
    path.write_text(
        f'wrk.method = "{method}"\nwrk.headers["Authorization"] = "Bearer {token}"\n'
        + ('wrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n' if method == "POST" else "")
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    parser.add_argument("--serve-tether", nargs=2, metavar=("PORT", "HOME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_tether:
        serve_tether(int(args.serve_tether[0]), args.serve_tether[1])
        return
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install -y nginx wrk")

    folder = Path(tempfile.mkdtemp(prefix="tether-bench-invoke-"))
    backend_port, proxy_port, tether_port = free_port(), free_port(), free_port()
    backend, tether = f"http://127.0.0.1:{backend_port}", f"http://127.0.0.1:{tether_port}"
    nginx = subprocess.Popen(
        ["nginx", "-c", str(nginx_config(folder, backend_port, proxy_port)), "-g", "daemon off;"]
    )
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-tether", str(tether_port), str(folder / "home")]
    )
    try:
        wait_for(f"{backend}/data")
        wait_for(f"http://127.0.0.1:{proxy_port}/data")
        wait_for(f"{tether}/api/v1/health", timeout=60)
        token, connector, connection = set_up(tether, backend_port)
        targets: dict[str, tuple[str, Path | None]] = {
            "nginx direct": (f"{backend}/data", None),
            "nginx proxy_pass": (f"http://127.0.0.1:{proxy_port}/data", None),
            "tether invoke": (
                f"{tether}{ENV}/connections/{connection}/invoke/GetData",
                lua(folder, "invoke", "POST", token),
            ),
            "tether /apim": (
                f"{tether}/apim/{connector}/{connection}/data",
                lua(folder, "apim", "GET", token),
            ),
        }
        rows: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in targets}
        for name, (url, script) in targets.items():
            for concurrency in CONCURRENCY:
                rows[name][concurrency] = wrk(url, concurrency, args.seconds, script)
    finally:
        for process in (server, nginx):
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    report(rows, args.seconds)


def report(rows: dict[str, dict[int, dict[str, Any]]], seconds: float) -> None:
    print(f"{'target':<18} {'conc':>4} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>10} {'errors':>7}")
    for name, by_concurrency in rows.items():
        for concurrency, row in by_concurrency.items():
            print(
                f"{name:<18} {concurrency:>4} {row['p50_ms']:>8.3f} {row['p99_ms']:>8.3f} "
                f"{row['rps']:>10.0f} {row['errors']:>7}"
            )
    invoke, apim, proxy, direct = (
        rows[k] for k in ("tether invoke", "tether /apim", "nginx proxy_pass", "nginx direct")
    )
    summary = {
        "added_p50_ms_invoke_vs_proxy_c1": invoke[1]["p50_ms"] - proxy[1]["p50_ms"],
        "added_p50_ms_apim_vs_proxy_c1": apim[1]["p50_ms"] - proxy[1]["p50_ms"],
        "throughput_invoke_vs_nginx_direct_c32": invoke[32]["rps"] / direct[32]["rps"],
        "throughput_invoke_vs_proxy_c32": invoke[32]["rps"] / proxy[32]["rps"],
        "throughput_apim_vs_proxy_c32": apim[32]["rps"] / proxy[32]["rps"],
    }
    print()
    for key, value in summary.items():
        print(f"{key:<40} {value:.3f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"invoke-{stamp}.json"
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
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwritten {path}")


if __name__ == "__main__":
    main()
