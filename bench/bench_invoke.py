"""Invoke endpoint benchmark: what does a call through Tether's API cost over calling the API directly?

Backend: nginx serving a fixed JSON body on a loopback port. Compared in one run, with load from
wrk (a second process) on loopback only:

- ``nginx direct``        wrk ⇒ nginx (the ceiling);
- ``nginx proxy_pass``    wrk ⇒ nginx ⇒ nginx (what a plain reverse proxy costs);
- ``python floor``        wrk ⇒ a bare ASGI app on uvicorn forwarding with aiohttp ⇒ nginx (no framework,
  no runtime, no checks: the fastest a Python proxy on these libraries gets here; the targets are
  ratios to it);
- ``tether invoke xN``    wrk ⇒ ``tether serve --workers N`` (the real command: uvicorn, SQLite)
  ``POST …/invoke/GetData`` ⇒ nginx: authentication, permission check, connection credentials,
  the compiled connector, the environment's network policy, the runtime (policies, transport,
  response check) and the JSON answer, on every call;
- ``tether /apim xN``     the same through the pass-through route (``GET /apim/…/data``);
- ``… x1 +obs``           one process again, with tracing of every request (OTLP to a sink in this
  process, ``OTEL_TRACES_SAMPLER=parentbased_always_on``) and Prometheus metrics on: the cost of
  observability, compared with the ``x1`` rows of the same run (target: within 10%), as throughput
  and as the server's CPU time per request (read from /proc, which a busy machine does not skew);
- ``… x1 +obs default``   the same as a user runs it by default: metrics, and tracing at Tether's
  default head sampling (one new trace in 20, every trace whose caller recorded it);
- ``… x1 metrics``        Prometheus metrics alone.
  ``span_off_ns`` is the CPU a span costs while tracing is off.

``--observability N`` measures only the one-process rows (off, metrics, +obs default, +obs), all
four servers up at once and measured in turn, N rounds, and reports each one's CPU per request and
throughput against the ``x1`` (off) server measured seconds before it (min, median, max over the
rounds), with what each piece costs in-process in CPU ns. ``--base-src /path/to/main/src`` adds
``x1 +obs base``: the ``+obs`` environment served by another checkout's code (an A/B against main).

at concurrency 1 and 32, each bounded in time, with 1 and 2 server processes. The per-connection
rate limit is off (``TETHER_CONNECTION_RATE_LIMIT=0``), otherwise it would be what is measured.
Prints a table and writes ``bench/results/invoke-<stamp>.json``.

The server stays uvicorn (uvloop + httptools): granian 2.8 serving the same app here used no less
CPU per call (0.65 to 0.83 ms against uvicorn's 0.64 to 0.70 ms at 32 clients, alternating runs, issue 14).

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
import threading
import time
import timeit
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from _loopback import (
    CONCURRENCY,
    SPEC,
    Rows,
    free_port,
    nginx,
    report,
    require,
    wait_for,
    wait_for_workers,
    worker_cpu,
    worker_shares,
    wrk,
)

from tether import telemetry
from tether.definition import package_from_files

PASSWORD = "bench-admin-password"
ENV = "/api/v1/environments/default"
WORKERS = (1, 2)
# Issue 14: invoke at 32 clients at least half the Python floor's throughput, under 1 ms added at one.
TARGETS = {
    "added_p50_ms_vs_nginx_direct": 1.0,
    "throughput_ratio_vs_python_floor": 0.5,
    "observability_throughput_ratio": 0.9,
}
OBSERVED = "x1 +obs"  # every request traced, and metrics (the row as first defined, issue 14)
OBSERVED_DEFAULT = "x1 +obs default"  # metrics and tracing at the default head sampling
METRICS_ONLY = "x1 metrics"
METRICS_TOKEN = "bench-metrics-token"


class _Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver that accepts every export and keeps nothing."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextlib.contextmanager
def otlp_sink() -> Iterator[str]:
    """A local OTLP endpoint for the traced server to export to; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (from /proc): unlike throughput, it does not
    depend on how busy the rest of the machine is."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(url: str, concurrency: int, seconds: float, script: Path, pid: int) -> dict[str, Any]:
    """One wrk run, with the server's CPU milliseconds per answered request (one-process servers)."""
    before = cpu_seconds(pid)
    row = wrk(url, concurrency, seconds, script)
    requests = row["rps"] * max(1, round(seconds))
    row["server_cpu_ms_per_request"] = (cpu_seconds(pid) - before) * 1000 / requests if requests else None
    return row


def measured_workers(url: str, concurrency: int, seconds: float, script: Path, root: int) -> dict[str, Any]:
    """One wrk run against ``tether serve --workers N`` (supervisor ``root``): the workers' CPU
    milliseconds per request, and each worker's share of that CPU (how evenly the load spread)."""
    before = worker_cpu(root)
    row = wrk(url, concurrency, seconds, script)
    after = worker_cpu(root)
    requests = row["rps"] * max(1, round(seconds))
    used = sum(after[pid] - before.get(pid, 0.0) for pid in after)
    row["server_cpu_ms_per_request"] = used * 1000 / requests if requests else None
    row["worker_cpu_shares"] = worker_shares(before, after)
    return row


def span_off_ns() -> float:
    """Nanoseconds one ``with telemetry.span(...)`` plus one counter call cost while both are off."""
    telemetry.disable_tracing()
    telemetry.disable_metrics()

    def off() -> None:
        with telemetry.span("x", {"a": 1}):
            telemetry.count_invoke("c", 200)

    runs = 200_000
    # CPU time, not wall time: the machine may be busy with other work.
    return min(timeit.repeat(off, number=runs, repeat=5, timer=time.process_time)) / runs * 1e9


def _cpu_ns(work: Callable[[], object], runs: int) -> float:
    """CPU nanoseconds (the whole process's, background threads included) one ``work()`` costs, best of 5."""
    return min(timeit.repeat(work, number=runs, repeat=5, timer=time.process_time)) / runs * 1e9


def telemetry_costs_ns() -> dict[str, float]:
    """What the pieces of one invoke's observability cost in this process, in CPU nanoseconds.

    ``trace_*``: the invoke's four nested spans (request → services → runtime → outbound call) with
    the attributes the call sites give, as recorded (the SDK's spans and batch processor, export
    to a no-op exporter) and as skipped by head sampling; ``otlp_encode_per_span``: encoding one
    finished span for OTLP/HTTP (what the export thread does); ``metrics_*``: the request's counter
    and histogram and the invoke's counter, as Tether records them and through ``labels()`` each time.
    """
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import sampling
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    class Discard(SpanExporter):
        def export(self, spans: object) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    def invoke_spans() -> None:
        with telemetry.span("POST", {"http.request.method": "POST"}) as request:
            with (
                telemetry.span(
                    "services.invoke",
                    {
                        "tether.connector_id": "c",
                        "tether.connection_id": "x",
                        "tether.operation_id": "GetData",
                        "tether.environment": "e",
                    },
                ),
                telemetry.span(
                    "runtime.invoke", {"tether.operation_id": "GetData", "http.request.method": "GET"}
                ),
                telemetry.span(
                    "GET 127.0.0.1",
                    {
                        "http.request.method": "GET",
                        "server.address": "127.0.0.1",
                        "server.port": 80,
                        "url.scheme": "http",
                    },
                ) as call,
            ):
                call.set("http.response.status_code", 200)
            request.set(
                "http.route", "/api/v1/environments/{env}/connections/{connection}/invoke/{operation_id}"
            )
            request.set("http.response.status_code", 200)  # fmt: skip

    costs: dict[str, float] = {}
    telemetry.set_request_id("0f" * 16)
    telemetry.enable_tracing(BatchSpanProcessor(Discard()))
    costs["trace_recorded_invoke"] = _cpu_ns(invoke_spans, 5_000)
    telemetry.enable_tracing(BatchSpanProcessor(Discard()), sampler=sampling.ParentBased(sampling.ALWAYS_OFF))
    costs["trace_unrecorded_invoke"] = _cpu_ns(invoke_spans, 50_000)
    memory = InMemorySpanExporter()
    telemetry.enable_tracing(BatchSpanProcessor(memory, max_export_batch_size=512))
    for _ in range(128):
        invoke_spans()
    telemetry.disable_tracing()
    finished = memory.get_finished_spans()
    costs["otlp_encode_per_span"] = _cpu_ns(lambda: encode_spans(finished).SerializeToString(), 20) / len(
        finished
    )
    m = telemetry.enable_metrics()
    route = "/api/v1/environments/{env}/connections/{connection}/invoke/{operation_id}"

    def metrics() -> None:
        telemetry.count_request("POST", route, 200, 0.0005)
        telemetry.count_invoke("connector", 200)

    def metrics_through_labels() -> None:
        m.requests.labels("POST", route, "200").inc()
        m.latency.labels("POST", route).observe(0.0005)
        m.invokes.labels("connector", "200").inc()

    costs["metrics_invoke"] = _cpu_ns(metrics, 50_000)
    costs["metrics_invoke_through_labels"] = _cpu_ns(metrics_through_labels, 50_000)
    telemetry.disable_metrics()
    return {f"{k}_ns": v for k, v in costs.items()}


@contextlib.contextmanager
def python_floor(backend: str) -> Iterator[tuple[str, int]]:
    """``bench_runtime.py``'s floor (raw ASGI on uvicorn, one aiohttp GET per request) in its own
    process; yields its URL and pid."""
    port = free_port()
    runtime_bench = Path(__file__).parent / "bench_runtime.py"
    server = subprocess.Popen([sys.executable, str(runtime_bench), "--serve", "floor", str(port), backend])
    try:
        url = f"http://127.0.0.1:{port}/data"
        wait_for(url)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def observability_env(sink: str) -> dict[str, dict[str, str]]:
    """The environment of each one-process configuration, by row label (``sink``: the OTLP endpoint)."""
    return {
        "x1": {},
        METRICS_ONLY: {"TETHER_METRICS_TOKEN": METRICS_TOKEN},
        OBSERVED_DEFAULT: {"TETHER_OTLP_ENDPOINT": sink, "TETHER_METRICS_TOKEN": METRICS_TOKEN},
        OBSERVED: {
            "TETHER_OTLP_ENDPOINT": sink,
            "TETHER_METRICS_TOKEN": METRICS_TOKEN,
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        },
    }


@contextlib.contextmanager
def tether_serve(
    folder: Path, workers: int, observe: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """``tether serve --workers N`` on a fresh SQLite home, rate limit off; yields its URL and pid.

    ``observe``: the observability settings (an :func:`observability_env` entry); none by default.
    """
    port = free_port()
    home = folder / f"home-{workers}-{len(list(folder.glob('home-*')))}"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OTEL_", "TETHER_OTLP", "TETHER_METRICS"))
        },
        "TETHER_HOME": str(home),
        "TETHER_ADMIN_PASSWORD": PASSWORD,
        "TETHER_CONNECTION_RATE_LIMIT": "0",
        **(observe or {}),
    }
    command = [
        str(Path(sys.executable).parent / "tether"),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    log = (folder / f"serve-{home.name}.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/api/v1/health", timeout=180)  # a loaded machine starts processes slowly
        wait_for_workers(folder / f"serve-{home.name}.log", workers)
        yield url, server.pid
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
            with python_floor(urls.backend) as (url, pid):
                script = lua(folder, "floor", "POST", "floor")  # invoke's request: a POST with a body
                wrk(url, 4, 1, script)
                rows["python floor"] = {c: measured(url, c, seconds, script, pid) for c in CONCURRENCY}
            with otlp_sink() as sink:
                observed = observability_env(sink)
                configurations = [*((w, f"x{w}", {}) for w in WORKERS)]
                configurations += [
                    (1, label, observed[label]) for label in (METRICS_ONLY, OBSERVED_DEFAULT, OBSERVED)
                ]
                for workers, label, observe in configurations:
                    with tether_serve(folder, workers, observe) as (tether, pid):
                        token, connector, connection = set_up(tether, urls.backend)
                        invoke = f"{tether}{ENV}/connections/{connection}/invoke/GetData"
                        apim = f"{tether}/apim/{connector}/{connection}/data"
                        for name, url, script in (
                            (f"tether invoke {label}", invoke, lua(folder, "invoke", "POST", token)),
                            (f"tether /apim {label}", apim, lua(folder, "apim", "GET", token)),
                        ):
                            wrk(url, 4, 1, script)  # warm the caches and the connection pool
                            if workers == 1:
                                rows[name] = {c: measured(url, c, seconds, script, pid) for c in CONCURRENCY}
                            else:
                                rows[name] = {
                                    c: measured_workers(url, c, seconds, script, pid) for c in CONCURRENCY
                                }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def measure_observability(seconds: float, repeat: int, base_src: str = "") -> tuple[Rows, dict[str, float]]:
    """The one-process configurations, all started at once and measured in turn, ``repeat`` rounds.

    In each round, for each route and concurrency, the off server is measured and then each other
    configuration right after it, so every ratio compares measurements seconds apart (a loaded
    machine's state drifts over minutes). ``base_src``: another checkout's ``src`` (``main``'s), whose
    server runs the ``x1 +obs`` environment too, as ``x1 +obs base``.
    """
    folder = Path(tempfile.mkdtemp(prefix="tether-bench-obs-"))
    rows: Rows = {}
    ratios: dict[str, list[float]] = {}
    try:
        with nginx(folder) as urls, otlp_sink() as sink, contextlib.ExitStack() as servers:
            configurations = observability_env(sink)
            if base_src:
                configurations["x1 +obs base"] = {**configurations[OBSERVED], "PYTHONPATH": base_src}
            targets: dict[str, dict[str, tuple[str, Path, int]]] = {}
            for label, observe in configurations.items():
                tether, pid = servers.enter_context(tether_serve(folder, 1, observe))
                token, connector, connection = set_up(tether, urls.backend)
                targets[label] = {
                    "invoke": (f"{tether}{ENV}/connections/{connection}/invoke/GetData",
                               lua(folder, f"invoke-{pid}", "POST", token), pid),
                    "apim": (f"{tether}/apim/{connector}/{connection}/data",
                             lua(folder, f"apim-{pid}", "GET", token), pid),
                }  # fmt: skip
                for url, script, _pid in targets[label].values():
                    wrk(url, 4, 1, script)  # warm the caches and the connection pool
            for n in range(1, repeat + 1):
                for route in ("invoke", "apim"):
                    for c in CONCURRENCY:
                        for label, by_route in targets.items():
                            url, script, pid = by_route[route]
                            rows.setdefault(f"{route} {label} #{n}", {})[c] = measured(
                                url, c, seconds, script, pid
                            )
                        off = rows[f"{route} x1 #{n}"][c]
                        for label in targets:
                            on = rows[f"{route} {label} #{n}"][c]
                            key = (
                                f"{label.removeprefix('x1').strip().replace(' ', '_') or 'off'}_{route}_c{c}"
                            )
                            if on["server_cpu_ms_per_request"] and off["server_cpu_ms_per_request"]:
                                ratios.setdefault(f"cpu_per_request_ratio_{key}", []).append(
                                    on["server_cpu_ms_per_request"] / off["server_cpu_ms_per_request"]
                                )
                            if off["rps"]:
                                ratios.setdefault(f"throughput_ratio_{key}", []).append(
                                    on["rps"] / off["rps"]
                                )
                            ratios.setdefault(f"server_cpu_ms_per_request_{key}", []).append(
                                on["server_cpu_ms_per_request"] or 0.0
                            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary: dict[str, float] = {}
    for key, values in sorted(ratios.items()):
        if key.startswith("cpu_per_request_ratio_off") or key.startswith("throughput_ratio_off"):
            continue
        ordered = sorted(values)
        summary[f"{key}_min"], summary[f"{key}_median"], summary[f"{key}_max"] = (
            ordered[0], ordered[len(ordered) // 2], ordered[-1]
        )  # fmt: skip
    return rows, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    parser.add_argument(
        "--observability", type=int, metavar="N", default=0,
        help="only the one-process observability rows, alternating, N times over",
    )  # fmt: skip
    parser.add_argument(
        "--base-src", default="", metavar="PATH",
        help="with --observability: also serve the +obs environment from this src folder (main's checkout)",
    )  # fmt: skip
    args = parser.parse_args()
    require("nginx", "wrk")
    if args.observability:
        rows, summary = measure_observability(args.seconds, args.observability, args.base_src)
        summary["span_off_ns"] = span_off_ns()
        summary |= telemetry_costs_ns()
        report("invoke-observability", rows, summary, args.seconds)
        return
    rows = measure(args.seconds)
    direct, proxy, floor = rows["nginx direct"], rows["nginx proxy_pass"], rows["python floor"]
    summary: dict[str, float] = {}
    for workers in WORKERS:
        for route in ("invoke", "/apim"):
            row = rows[f"tether {route} x{workers}"]
            key = route.strip("/")
            summary[f"added_p50_ms_{key}_c1_x{workers}"] = row[1]["p50_ms"] - direct[1]["p50_ms"]
            summary[f"throughput_{key}_vs_floor_c32_x{workers}"] = row[32]["rps"] / floor[32]["rps"]
            summary[f"throughput_{key}_vs_proxy_c32_x{workers}"] = row[32]["rps"] / proxy[32]["rps"]
    for route in ("invoke", "/apim"):  # issue 14: two processes faster than one
        key = route.strip("/")
        two, one = rows[f"tether {route} x2"][32], rows[f"tether {route} x1"][32]
        summary[f"throughput_{key}_x2_vs_x1_c32"] = two["rps"] / one["rps"]
        if two["worker_cpu_shares"]:
            summary[f"largest_worker_cpu_share_{key}_c32_x2"] = two["worker_cpu_shares"][0]
    for route in ("invoke", "/apim"):
        key = route.strip("/")
        for c in CONCURRENCY:
            cpu = rows[f"tether {route} x1"][c]["server_cpu_ms_per_request"]
            cpu_floor = floor[c]["server_cpu_ms_per_request"]
            summary[f"server_cpu_ms_per_request_{key}_c{c}_x1"] = cpu or 0.0
            summary[f"server_cpu_ms_per_request_floor_c{c}"] = cpu_floor or 0.0
            if cpu and cpu_floor:
                summary[f"floor_cpu_per_request_ratio_{key}_c{c}_x1"] = cpu_floor / cpu
    for label, prefix in ((OBSERVED, "observability"), (OBSERVED_DEFAULT, "observability_default"),
                          (METRICS_ONLY, "metrics_only")):  # fmt: skip
        for route in ("invoke", "/apim"):
            on, off = rows[f"tether {route} {label}"], rows[f"tether {route} x1"]
            key = route.strip("/")
            for c in CONCURRENCY:
                summary[f"{prefix}_throughput_ratio_{key}_c{c}"] = on[c]["rps"] / off[c]["rps"]
                cpu_on, cpu_off = on[c]["server_cpu_ms_per_request"], off[c]["server_cpu_ms_per_request"]
                if cpu_on and cpu_off:
                    summary[f"{prefix}_cpu_per_request_ratio_{key}_c{c}"] = cpu_on / cpu_off
            summary[f"{prefix}_added_p50_ms_{key}_c1"] = on[1]["p50_ms"] - off[1]["p50_ms"]
    summary["span_off_ns"] = span_off_ns()
    report("invoke", rows, summary, args.seconds, targets=TARGETS)


if __name__ == "__main__":
    main()
