"""Benchmark: runs per second of a Request-triggered flow, embedded and on Celery, in one run.

Not a test. The flow is Request → Compose → Http (to a local backend) → Response, fired through
its signed callback URL; each caller waits for the Response. Load comes from wrk (``CONCURRENCY``
connections, ``--seconds`` per measurement) in its own process, so the load generator costs the
machine little; the backend is nginx answering a fixed JSON body (``bench/_loopback.py``).

Measured in this one run, with the same load:

- ``nginx proxy_pass``: wrk ⇒ nginx ⇒ nginx, the ceiling for one hop on this machine;
- ``python floor`` (the baseline of the ratios): wrk ⇒ a bare ASGI app on uvicorn that POSTs the
  body to nginx with aiohttp and answers with nginx's answer — the request → call → response
  shape of the flow with no framework, engine or database: the fastest Python does it here;
- ``embedded xN``: the real ``tether serve --workers N`` on SQLite (WAL), runs advanced by each
  process's EmbeddedExecutor — the default set-up;
- ``stateful compose`` and ``stateless compose`` (one server process): Request → Compose →
  Compose → Response, the same definition saved as a Stateful flow (every run journaled) and as a
  Stateless one (run in memory, nothing written on success), beside ``python floor (no call)``:
  a bare ASGI app on uvicorn that parses the body and answers the same JSON, with no backend hop;
- ``invoke (connector op)`` and ``flow Request → Http`` (one server process, connection rate limit
  off as in ``bench_invoke.py``): ``POST …/connections/{id}/invoke/GetData`` of a connector whose
  operation GETs nginx's ``/data``, beside a flow Request → Http (GET the same URL) → Response,
  saved as a Stateful flow (the default kind, as when the issue was filed) and as a Stateless one
  (``flow Request → Http (stateless)``). The three rows are measured in turn ``--pairs`` times
  (3 by default), each flow row right after an invoke row, so a change in the machine's load hits
  both sides of a ratio alike; the table shows each row's median, and under it the "one-Http-action
  flow ≥ 80% of invoke" ratio as the median and range of those adjacent pairs' ratios, with the
  CPU per run of each side;
- ``celery xN``: ``tether serve`` on PostgreSQL submitting to N ``tether worker`` processes
  (prefork, 4 each) over Redis, beside ``embedded (PostgreSQL)`` on the same database server
  (``bench_flows_celery.py``); skipped with ``--no-celery`` or when PostgreSQL or Redis is missing.

Each row gives runs/s, latency, the ratio to the floor and the CPU milliseconds one run costs the
server processes (and Celery workers), read from /proc. Under the table: the acceptance ratios of
issue 14 (stateless and stateful against the floors, the one-Http-action flow against invoke, the
stateful rows against the issue's 372 runs/s, two processes against one). On a shared machine the
CPU per run is the steadier figure: throughput follows whatever else is running. Results go to
``bench/results/flows-<timestamp>.json`` (gitignored), with the machine's load average: the
figures mean little when something else is using the CPUs.

    .venv/bin/python bench/bench_flows.py [--seconds 10] [--no-celery]

(needs ``nginx`` and ``wrk``: ``apt-get install -y nginx wrk``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from _loopback import (
    BODY,
    RESULTS,
    free_port,
    nginx,
    require,
    wait_for,
    wait_for_workers,
    worker_cpu,
    worker_shares,
)

CONCURRENCY = 16
HTTP_ROWS = ("invoke (connector op)", "flow Request → Http", "flow Request → Http (stateless)")
PAIRS = 3  # invoke / one-Http flow rows measured in turn this many times (--pairs)
ISSUE_STATEFUL = 372.0  # runs/s of the stateful 3-step flow when issue 14 was filed
TARGET = 220.0  # runs/s embedded on the 2-core reference machine (issue 6, "Engine and executors")
SERVERS = (1, 2)  # tether serve --workers N
PASSWORD = "bench-admin-password"
ENV = "/api/v1/environments/default"
FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
    "actions": {
        "Compose": {"type": "Compose", "inputs": {"echo": "@triggerBody()"}},
        "Call": {
            "type": "Http",
            "runAfter": {"Compose": ["Succeeded"]},
            "inputs": {"method": "POST", "uri": "@parameters('backend')", "body": "@outputs('Compose')"},
        },
        "Answer": {
            "type": "Response",
            "runAfter": {"Call": ["Succeeded"]},
            "inputs": {"statusCode": 200, "body": "@body('Call')"},
        },
    },
    "parameters": {"backend": {"type": "String", "defaultValue": ""}},
}
# The stateless row's flow (and its stateful twin): no outbound call, so the engine and history show.
COMPOSE_FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
    "actions": {
        "Double": {"type": "Compose", "inputs": "@mul(triggerBody()['n'], 2)"},
        "Plus": {
            "type": "Compose",
            "runAfter": {"Double": ["Succeeded"]},
            "inputs": "@add(outputs('Double'), 1)",
        },
        "Answer": {
            "type": "Response",
            "runAfter": {"Plus": ["Succeeded"]},
            "inputs": {"statusCode": 200, "body": {"n": "@outputs('Plus')"}},
        },
    },
}
# The one-Http-action flow, beside invoke of a connector operation calling the same nginx URL.
HTTP_FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
    "actions": {
        "Call": {"type": "Http", "inputs": {"method": "GET", "uri": "@parameters('backend')"}},
        "Answer": {
            "type": "Response",
            "runAfter": {"Call": ["Succeeded"]},
            "inputs": {"statusCode": 200, "body": "@body('Call')"},
        },
    },
    "parameters": {"backend": {"type": "String", "defaultValue": ""}},
}
TETHER = str(Path(sys.executable).parent / "tether")
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(root: int) -> float:
    """User + system CPU of process ``root`` and all its descendants, from /proc."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS)
    total, family = 0.0, {root}
    changed = True
    while changed:
        changed = False
        for pid, (parent, _cpu) in stats.items():
            if parent in family and pid not in family:
                family.add(pid)
                changed = True
    for pid in family:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def serve_floor(port: int, backend: str) -> None:
    """The floor (run in its own process): any request ⇒ its body POSTed to nginx ⇒ nginx's answer."""
    import aiohttp
    import uvicorn

    sessions: list[aiohttp.ClientSession] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        if not sessions:
            sessions.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)))
        headers = {"Content-Type": "application/json"}
        async with sessions[0].post(backend, data=body, headers=headers) as upstream:
            answer, status = await upstream.read(), upstream.status
        headers_out = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers_out})
        await send({"type": "http.response.body", "body": answer})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


def serve_compose_floor(port: int) -> None:
    """The no-call floor (own process): parse ``{"n": N}``, answer ``{"n": 2N+1}`` — the compose
    flow's work with no framework, engine or database."""
    import uvicorn

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        n = json.loads(body)["n"] if body else 0  # wait_for's probe is a GET with no body
        answer = json.dumps({"n": n * 2 + 1}).encode()
        headers_out = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers_out})
        await send({"type": "http.response.body", "body": answer})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


@contextlib.contextmanager
def floor(backend: str | None) -> Iterator[tuple[str, int]]:
    """The floor with a backend call, or with ``backend=None`` the no-call floor."""
    port = free_port()
    arguments = ["--serve-floor", str(port), backend] if backend else ["--serve-compose-floor", str(port)]
    server = subprocess.Popen([sys.executable, __file__, *arguments])
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)


def post_script(folder: Path) -> Path:
    path = folder / "post.lua"
    path.write_text(
        'wrk.method = "POST"\nwrk.body = "{\\"n\\": 1}"\nwrk.headers["Content-Type"] = "application/json"\n'
    )
    return path


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def load(url: str, seconds: float, script: Path, *, processes: tuple[int, ...] = ()) -> dict[str, Any]:
    """wrk with CONCURRENCY connections: runs/s, latency, failures, CPU ms per run of ``processes``."""
    before = sum(cpu_seconds(pid) for pid in processes)
    command = [
        "wrk",
        "-t2",
        f"-c{CONCURRENCY}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(script),
    ]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    cpu = sum(cpu_seconds(pid) for pid in processes) - before
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    broken = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    latency = {f"p{m[0]}": float(m[1]) * _UNITS[m[2]] for m in _LATENCY.findall(output)}
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50_ms": latency.get("p50"),
        "p99_ms": latency.get("p99"),
        "errors": (int(failed.group(1)) if failed else 0) + (sum(map(int, broken.groups())) if broken else 0),
        "requests": requests,
        "cpu_ms_per_run": round(cpu * 1000 / requests, 2) if processes and requests else None,
    }


@contextlib.contextmanager
def tether_serve(folder: Path, name: str, workers: int, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """``tether serve --workers N`` with ``env``; yields its URL and process id."""
    port = free_port()
    log = (folder / f"serve-{name}.log").open("w")
    command = [TETHER, "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/api/v1/health", timeout=180)  # a loaded machine starts processes slowly
        wait_for_workers(folder / f"serve-{name}.log", workers)
        yield url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def callback(tether: str, backend: str) -> str:
    """Through the real API: a token, the bench flow calling ``backend``, its signed callback URL."""
    with httpx.Client(base_url=tether, timeout=30) as http:
        token = http.post("/api/v1/tokens", json={"name": "bench"}, auth=("admin", PASSWORD)).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        # The backend is nginx on loopback, which the SSRF guard refuses unless the environment allows it.
        http.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}).raise_for_status()
        flow = {"name": "bench", "definition": FLOW, "parameters": {"backend": backend}}
        http.post(f"{ENV}/flows", json=flow).raise_for_status()
        url = http.post(f"{ENV}/flows/bench/callback-url").json()["value"]
        check = httpx.post(url, json={"n": 0}, timeout=120)  # Celery workers may still be starting
        if check.status_code != 200 or check.json() != json.loads(BODY):
            raise RuntimeError(
                f"the bench flow does not answer as expected: {check.status_code} {check.text}"
            )
    return str(url)


def compose_callback(tether: str, kind: str) -> str:
    """The compose flow saved as ``kind`` (Stateful or Stateless); its signed callback URL."""
    with httpx.Client(base_url=tether, timeout=30) as http:
        token = http.post("/api/v1/tokens", json={"name": "bench"}, auth=("admin", PASSWORD)).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        name = f"compose-{kind.lower()}"
        flow = {"name": name, "definition": COMPOSE_FLOW, "kind": kind}
        http.post(f"{ENV}/flows", json=flow).raise_for_status()
        url = str(http.post(f"{ENV}/flows/{name}/callback-url").json()["value"])
    check = httpx.post(url, json={"n": 1}, timeout=60)
    if check.status_code != 200 or check.json() != {"n": 3}:
        raise RuntimeError(f"the {kind} compose flow answers {check.status_code} {check.text}")
    return url


def http_rows(tether: str, backend: str, folder: Path) -> list[tuple[str, Path]]:
    """The URL and wrk script of each of ``HTTP_ROWS``: invoke (a connector operation GET
    ``backend``/data, through a connection), then the one-Http-action flow (Request → Http GET the
    same URL → Response) saved Stateful and saved Stateless."""
    from bench_invoke import lua, set_up

    token, _connector, connection = set_up(tether, backend)
    invoke = f"{tether}{ENV}/connections/{connection}/invoke/GetData"
    rows = [(invoke, lua(folder, "invoke", "POST", token))]
    with httpx.Client(base_url=tether, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        for name, kind in (("one-http", "Stateful"), ("one-http-stateless", "Stateless")):
            flow = {"name": name, "definition": HTTP_FLOW, "parameters": {"backend": f"{backend}/data"}}
            http.post(f"{ENV}/flows", json={**flow, "kind": kind}).raise_for_status()
            url = str(http.post(f"{ENV}/flows/{name}/callback-url").json()["value"])
            check = httpx.post(url, json={"n": 1}, timeout=60)
            if check.status_code != 200 or check.json() != json.loads(BODY):
                raise RuntimeError(
                    f"the {kind} one-Http-action flow answers {check.status_code} {check.text}"
                )
            rows.append((url, post_script(folder)))
    return rows


def alternated(rows: list[tuple[str, Path]], seconds: float, pairs: int, pid: int) -> list[dict[str, Any]]:
    """Each of ``rows`` measured in turn, ``pairs`` times over: ``[{row label: measurement}, …]``."""
    for url, script in rows:
        load(url, 2, script)  # warm up: caches, connection pools
    return [
        {
            label: load(url, seconds, script, processes=(pid,))
            for label, (url, script) in zip(HTTP_ROWS, rows, strict=True)
        }
        for _ in range(pairs)
    ]


def median_row(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """The measurement with the median throughput, with every repetition's figures beside it."""
    ordered = sorted(measured, key=lambda row: row["rps"])
    return {**ordered[len(ordered) // 2], "repetitions": measured}


def pair_ratios(rounds: list[dict[str, dict[str, Any]]], label: str) -> dict[str, Any]:
    """``label``'s throughput over invoke's, and invoke's CPU per run over ``label``'s, per round."""
    throughput = [r[label]["rps"] / r[HTTP_ROWS[0]]["rps"] for r in rounds]
    cpu = [
        r[HTTP_ROWS[0]]["cpu_ms_per_run"] / r[label]["cpu_ms_per_run"]
        for r in rounds
        if r[label]["cpu_ms_per_run"] and r[HTTP_ROWS[0]]["cpu_ms_per_run"]
    ]
    return {"throughput": throughput, "cpu": cpu}


def spread(values: list[float]) -> str:
    """Median and range: ``0.85x (0.80 to 0.91, n=3)``."""
    if not values:
        return "-"
    ordered = sorted(values)
    middle = statistics.median(ordered)
    return f"{middle:.3f}x ({ordered[0]:.3f} to {ordered[-1]:.3f}, n={len(ordered)})"


def measure_embedded(
    folder: Path,
    backend: str,
    seconds: float,
    script: Path,
    *,
    embedded_only: bool = False,
    pairs: int = PAIRS,
) -> dict[str, dict[str, Any]]:
    rows = {}
    for workers in SERVERS:
        env = {
            **os.environ,
            "TETHER_HOME": str(folder / f"home-{workers}"),
            "TETHER_ADMIN_PASSWORD": PASSWORD,
            # Off, as in bench_invoke.py: the invoke row would measure the per-connection limit.
            "TETHER_CONNECTION_RATE_LIMIT": "0",
        }
        for variable in ("TETHER_DATABASE_URL", "TETHER_BROKER_URL"):
            env.pop(variable, None)
        with tether_serve(folder, f"embedded-{workers}", workers, env) as (tether, pid):
            url = callback(tether, backend)
            load(url, 2, script)  # warm up: caches, connection pools, SQLite pages
            before = worker_cpu(pid)
            rows[f"embedded x{workers}"] = load(url, seconds, script, processes=(pid,))
            if workers > 1:  # how evenly the kernel spread the connections, as each worker's CPU
                rows[f"embedded x{workers}"]["worker_cpu_shares"] = worker_shares(before, worker_cpu(pid))
            if workers == 1 and not embedded_only:
                for kind in ("Stateful", "Stateless"):
                    url = compose_callback(tether, kind)
                    load(url, 2, script)
                    rows[f"{kind.lower()} compose"] = load(url, seconds, script, processes=(pid,))
                nginx_root = backend.rsplit("/", 1)[0]
                rounds = alternated(http_rows(tether, nginx_root, folder), seconds, pairs, pid)
                for label in HTTP_ROWS:
                    rows[label] = median_row([r[label] for r in rounds])
                    if label != HTTP_ROWS[0]:
                        rows[label]["vs_invoke"] = pair_ratios(rounds, label)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measurement")
    parser.add_argument("--no-celery", action="store_true", help="embedded only (no PostgreSQL, Redis)")
    parser.add_argument(
        "--servers-only",
        action="store_true",
        help="only the floors and embedded xN (one and two processes): the quick A/B of --workers",
    )
    parser.add_argument(
        "--pairs", type=int, default=PAIRS, help="invoke / one-Http flow rounds (median, range)"
    )
    parser.add_argument("--serve-floor", nargs=2, metavar=("PORT", "BACKEND"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-compose-floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        serve_floor(int(args.serve_floor[0]), args.serve_floor[1])
        return 0
    if args.serve_compose_floor:
        serve_compose_floor(args.serve_compose_floor)
        return 0
    require("nginx", "wrk")
    folder = Path(tempfile.mkdtemp(prefix="tether-bench-flows-"))
    rows: dict[str, dict[str, Any]] = {}
    notes = []
    load_before = os.getloadavg()
    try:
        script = post_script(folder)
        with nginx(folder) as urls:
            backend = f"{urls.backend}/data"
            rows["nginx proxy_pass"] = load(f"{urls.proxy}/data", args.seconds, script)
            with floor(backend) as (url, pid):
                load(url, 2, script)
                rows["python floor"] = load(url, args.seconds, script, processes=(pid,))
            with floor(None) as (url, pid):
                load(url, 2, script)
                rows["python floor (no call)"] = load(url, args.seconds, script, processes=(pid,))
            only, pairs = args.servers_only, max(1, args.pairs)
            found = measure_embedded(folder, backend, args.seconds, script, embedded_only=only, pairs=pairs)
            rows.update(found)
            if not args.no_celery and not args.servers_only:
                from bench_flows_celery import measure_celery

                try:
                    rows.update(measure_celery(folder, backend, args.seconds, script))
                except FileNotFoundError as exc:
                    notes.append(f"celery skipped: {exc}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    baseline = rows["python floor"]["rps"]
    print(
        f"Request → Compose → Http → Response; wrk, {CONCURRENCY} connections, {args.seconds:.0f}s each; "
        f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} before"
    )
    heading = ("runs/s", "p50 ms", "p99 ms", "vs floor")
    print(f"  {'':<31} " + " ".join(f"{h:>8}" for h in heading) + f"  {'CPU ms/run':>11} {'errors':>7}")
    for label, row in rows.items():
        cpu = f"{row['cpu_ms_per_run']:.2f}" if row.get("cpu_ms_per_run") is not None else "-"
        print(
            f"  {label:<31} {row['rps']:8.1f} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} "
            f"{row['rps'] / baseline:8.3f}x {cpu:>11} {row['errors']:>7}"
        )
    for note in notes:
        print(f"  ({note})")
    if "stateless compose" in rows:
        no_call = rows["python floor (no call)"]["rps"]
        for kind in ("stateful", "stateless"):
            row = rows[f"{kind} compose"]
            print(
                f"  {kind} Request → Compose → Compose → Response: {row['rps'] / no_call:.3f}x the no-call "
                f"floor, {row['rps'] / baseline:.3f}x the python floor"
            )
    for label in HTTP_ROWS[1:]:
        if label in rows:
            ratios = rows[label]["vs_invoke"]
            print(
                f"  {label}: {spread(ratios['throughput'])} invoke's throughput in adjacent rounds "
                f"(target ≥ 0.8 on the median); invoke's CPU/run over the flow's: {spread(ratios['cpu'])}"
            )
    for label in ("embedded x1", "stateful compose"):
        if label in rows:
            rps = rows[label]["rps"]
            print(
                f"  {label}: {rps / ISSUE_STATEFUL:.2f}x the issue's {ISSUE_STATEFUL:.0f} runs/s (target ≥ 2)"
            )
    one, two = rows["embedded x1"]["rps"], rows["embedded x2"]["rps"]
    shares = rows["embedded x2"].get("worker_cpu_shares", [])
    print(f"  two processes: {two / one:.3f}x one (target > 1); workers' CPU shares {shares}")
    best = max(rows[f"embedded x{n}"]["rps"] for n in SERVERS)
    print(f"  target {TARGET:.0f} runs/s embedded: {'met' if best >= TARGET else 'NOT met'} ({best:.0f})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": load_before},
        "concurrency": CONCURRENCY,
        "seconds_per_measurement": args.seconds,
        "target_runs_per_second": TARGET,
        "rows": rows,
        "notes": notes,
    }
    path = RESULTS / f"flows-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return 0 if all(row["errors"] == 0 for row in rows.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
