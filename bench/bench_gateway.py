"""Gateway benchmark: what does routing a call through an on-premises gateway agent add?

Backend: nginx serving a fixed JSON body on a loopback port. Compared in one run, with load from
wrk (a second process) on loopback only, against one ``tether serve`` (SQLite):

- ``invoke direct``        wrk ⇒ tether ``POST …/invoke/GetData`` ⇒ nginx (the server's own road);
- ``invoke via gateway``   wrk ⇒ tether ⇒ WebSocket tunnel ⇒ ``tether gateway run`` (its own process,
  allowlist ``127.0.0.1:<nginx>``) ⇒ nginx, the answer streamed back through the tunnel;

at concurrency 1 and 32, each bounded in time. Summary: the p50 the gateway adds at concurrency 1,
and its throughput as a share of the direct call's at concurrency 32. The rate limit is off.
Prints a table and writes ``bench/results/gateway-<stamp>.json``.

Run: ``.venv/bin/python bench/bench_gateway.py [--seconds 5]`` (needs ``nginx`` and ``wrk``:
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
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from _loopback import CONCURRENCY, SPEC, Rows, free_port, nginx, report, require, wait_for, wrk
from bench_invoke import PASSWORD, lua

from tether.definition import package_from_files

ENV = "/api/v1/environments/default"
TETHER = str(Path(sys.executable).parent / "tether")
GATEWAY_PROPERTIES = {"properties": {"connectionParameters": {"gateway": {"type": "gatewaySetting"}}}}


@contextlib.contextmanager
def process(command: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as handle:
        started = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        yield started
    finally:
        started.terminate()
        started.wait(timeout=30)


def set_up(http: httpx.Client, backend: str, folder: Path) -> tuple[str, str, Path]:
    """Through the real API: two connectors on nginx, a gateway, a registered agent; the two connections."""
    definition = {**SPEC, "host": backend.removeprefix("http://"), "schemes": ["http"], "basePath": "/"}
    files = {"apiDefinition.swagger.json": json.dumps(definition).encode()}
    http.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}).raise_for_status()
    direct_package = package_from_files(files)
    gateway_package = package_from_files(
        {**files, "apiProperties.json": json.dumps(GATEWAY_PROPERTIES).encode()}
    )
    connections = []
    token = http.post(f"{ENV}/gateways", json={"name": "bench"}).json()["registration_token"]
    config = folder / "agent.json"
    subprocess.run(
        [TETHER, "gateway", "register", "--server", str(http.base_url).rstrip("/"),
         "--registration-token", token, "--cluster", "bench", "--recovery-key", "bench recovery passphrase",
         "--config", str(config)],
        check=True, capture_output=True, env={**os.environ, "TETHER_HOME": str(folder / "agent-home")},
    )  # fmt: skip
    for name, package, values in (
        ("direct", direct_package, {}),
        ("via-gateway", gateway_package, {"gateway": "bench"}),
    ):
        upload = {"package": (f"{name}.zip", package.to_zip(), "application/zip")}
        answer = http.post(f"{ENV}/connectors", files=upload, data={"name": f"bench-{name}"})
        if answer.status_code != 201:
            raise RuntimeError(f"cannot create the bench connector: {answer.text}")
        connector = answer.json()
        body = {"connector": connector["id"], "parameters": values}
        connections.append(http.post(f"{ENV}/connections", json=body).json()["id"])
    return connections[0], connections[1], config


def measure(seconds: float) -> Rows:
    folder = Path(tempfile.mkdtemp(prefix="tether-bench-gateway-"))
    rows: Rows = {}
    try:
        with nginx(folder) as urls:
            port = free_port()
            env = {"TETHER_HOME": str(folder / "home"), "TETHER_ADMIN_PASSWORD": PASSWORD,
                   "TETHER_CONNECTION_RATE_LIMIT": "0"}  # fmt: skip
            with process([TETHER, "serve", "--port", str(port)], folder / "serve.log", env):
                tether = f"http://127.0.0.1:{port}"
                wait_for(f"{tether}/api/v1/health", timeout=60)
                with httpx.Client(base_url=tether, timeout=30) as http:
                    token = http.post(
                        "/api/v1/tokens", json={"name": "bench"}, auth=("admin", PASSWORD)
                    ).json()
                    http.headers["Authorization"] = f"Bearer {token['token']}"
                    direct, through, config = set_up(http, urls.backend, folder)
                    allow = urls.backend.removeprefix("http://")
                    command = [TETHER, "gateway", "run", "--config", str(config), "--allow", allow]
                    with process(command, folder / "agent.log", {}):
                        _wait_online(http)
                        script = lua(folder, "invoke", "POST", token["token"])
                        for name, connection in (("invoke direct", direct), ("invoke via gateway", through)):
                            url = f"{tether}{ENV}/connections/{connection}/invoke/GetData"
                            check = http.post(url.removeprefix(tether)).json()
                            if check.get("status") != 200:
                                raise RuntimeError(f"the bench call does not work: {check}")
                            wrk(url, 4, 1, script)  # warm the caches, the pool and the tunnel
                            rows[name] = {c: wrk(url, c, seconds, script) for c in CONCURRENCY}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def _wait_online(http: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        members = http.get(f"{ENV}/gateways/bench/members").json()["items"]
        if any(m["status"] == "online" for m in members):
            return
        time.sleep(0.2)
    raise RuntimeError("the gateway agent did not connect")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    args = parser.parse_args()
    require("nginx", "wrk")
    rows = measure(args.seconds)
    direct, through = rows["invoke direct"], rows["invoke via gateway"]
    summary = {
        "added_p50_ms_gateway_c1": through[1]["p50_ms"] - direct[1]["p50_ms"],
        "added_p50_ms_gateway_c32": through[32]["p50_ms"] - direct[32]["p50_ms"],
        "throughput_gateway_vs_direct_c1": through[1]["rps"] / direct[1]["rps"],
        "throughput_gateway_vs_direct_c32": through[32]["rps"] / direct[32]["rps"],
    }
    report("gateway", rows, summary, args.seconds)


if __name__ == "__main__":
    main()
