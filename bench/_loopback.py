"""What the loopback benchmarks share: free ports, nginx as the backend and reverse proxy, wrk, results.

The backend is nginx answering a fixed JSON body, so it is never the bottleneck; nginx
``proxy_pass`` to it is the reverse-proxy baseline. Load comes from wrk in its own process.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

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
CONCURRENCY = (1, 32)
Rows = dict[str, dict[int, dict[str, Any]]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_cpu(root: int) -> dict[int, float]:
    """CPU seconds so far (user + system, from /proc) of each worker of ``tether serve --workers N``
    running as ``root``: its children started by multiprocessing (not the resource tracker)."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = {}
    with contextlib.suppress(FileNotFoundError):
        for child in Path(f"/proc/{root}/task/{root}/children").read_text().split():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                if b"spawn_main" not in Path(f"/proc/{child}/cmdline").read_bytes():
                    continue
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                cpu[int(child)] = (int(fields[11]) + int(fields[12])) / ticks
    return cpu


def worker_shares(before: dict[int, float], after: dict[int, float]) -> list[float]:
    """Each worker's share of the CPU the workers used between two :func:`worker_cpu` readings,
    largest first: how evenly the kernel spread the load (0.5/0.5 is even for two)."""
    used = [after[pid] - before.get(pid, 0.0) for pid in after]
    total = sum(used)
    return sorted((round(u / total, 3) for u in used), reverse=True) if total > 0 else []


def wait_for_workers(log: Path, workers: int, timeout: float = 180.0) -> None:
    """Wait until all ``workers`` processes of ``tether serve`` (writing to ``log``) finished start-up.

    /health answers once ONE worker serves; wrk opens its connections once, at the start, so a
    worker still starting then would get none of them for the whole measurement.
    """
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count("Application startup complete") < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not all {workers} server processes started (see {log})")
        time.sleep(0.05)


def wait_for(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def require(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install -y nginx wrk")


@dataclass(frozen=True)
class Nginx:
    backend: str  # the fixed JSON body at {backend}/data
    proxy: str  # proxy_pass to the backend


@contextlib.contextmanager
def nginx(folder: Path) -> Iterator[Nginx]:
    """nginx serving the backend and the proxy on two free loopback ports."""
    backend, proxy = free_port(), free_port()
    body = BODY.replace("'", "\\'")
    config = folder / "nginx.conf"
    config.write_text(f"""
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
""")
    process = subprocess.Popen(["nginx", "-c", str(config), "-g", "daemon off;"])
    try:
        urls = Nginx(f"http://127.0.0.1:{backend}", f"http://127.0.0.1:{proxy}")
        wait_for(f"{urls.backend}/data")
        wait_for(f"{urls.proxy}/data")
        yield urls
    finally:
        process.terminate()
        process.wait(timeout=10)


_WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, concurrency: int, seconds: float, script: Path | None = None) -> dict[str, Any]:
    """One wrk run: p50/p99 latency, requests per second and non-2xx answers."""
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


def report(name: str, rows: Rows, summary: dict[str, float], seconds: float, **extra: Any) -> None:
    """Print the table and the summary; write ``bench/results/<name>-<stamp>.json``."""
    print(f"{'target':<24} {'conc':>4} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>10} {'errors':>7}")
    for target, by_concurrency in rows.items():
        for concurrency, row in by_concurrency.items():
            print(
                f"{target:<24} {concurrency:>4} {row['p50_ms']:>8.3f} {row['p99_ms']:>8.3f} "
                f"{row['rps']:>10.0f} {row.get('errors', 0):>7}"
            )
    print()
    for key, value in summary.items():
        print(f"{key:<44} {value:.3f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{name}-{stamp}.json"
    document = {
        "stamp": stamp,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
        "seconds_per_measurement": seconds,
        "rows": {target: {str(c): row for c, row in by.items()} for target, by in rows.items()},
        "summary": summary,
        **extra,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwritten {path}")
