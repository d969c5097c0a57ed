"""``tether serve`` as operators run it, with ``TETHER_OTLP_ENDPOINT`` pointing at a local OTLP/HTTP
receiver (a tiny HTTP server here that decodes the protobuf with opentelemetry-proto) and
``TETHER_LOG_FORMAT=json``: the invoke's spans arrive in order, free of secrets, and the request id
an error answer shows finds the server's JSON log lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.observability.conftest import ADMIN_PASSWORD, ENV, connect, wait_for
from tests.services._invoke_kit import KEY, echo_package, values_for
from tether.api import free_port

QUERY_VALUE = "otlp-private-query-value"
# A caller that recorded its side of the trace: with the default head sampling (one new trace in
# 20) the server records every request that comes with a sampled parent, in the caller's trace.
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}


@dataclass
class Received:
    spans: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


@pytest.fixture(scope="module")
def collector() -> Iterator[tuple[str, Received]]:
    """An OTLP/HTTP trace receiver on loopback: decodes each export, keeps every span."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            export = ExportTraceServiceRequest()
            export.ParseFromString(body)
            with received.lock:
                for resource in export.resource_spans:
                    for scope in resource.scope_spans:
                        for s in scope.spans:
                            received.spans.append(
                                {
                                    "name": s.name,
                                    "trace_id": s.trace_id.hex(),
                                    "span_id": s.span_id.hex(),
                                    "parent": s.parent_span_id.hex(),
                                    "start": s.start_time_unix_nano,
                                    "attributes": {a.key: _value(a.value) for a in s.attributes},
                                }
                            )
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@dataclass
class Served:
    client: httpx.Client
    log: Path
    connection: str


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, collector: tuple[str, Received], echo_host: str
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("otlp-serve")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_TRACES_SAMPLER")},  # the default
        "TETHER_HOME": str(folder / "home"),
        "TETHER_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "TETHER_OTLP_ENDPOINT": collector[0],
        "TETHER_LOG_FORMAT": "json",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # export batches every 0.1 s rather than every 5 s
    }
    log = folder / "serve.log"
    with log.open("w") as output:
        command = [str(Path(sys.executable).parent / "tether"), "serve", "--port", str(port)]
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as client:

            def healthy() -> bool:
                assert process.poll() is None, log.read_text()
                try:
                    return client.get("/api/v1/health").status_code == 200
                except httpx.TransportError:
                    return False

            wait_for(healthy, "tether serve to answer", timeout=60)
            token = client.post("/api/v1/tokens", json={"name": "t"}, auth=("admin", ADMIN_PASSWORD))
            client.headers["Authorization"] = f"Bearer {token.json()['token']}"
            _connector, connection = connect(client, echo_host)
            yield Served(client, log, connection)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_an_invoke_reaches_an_otlp_collector_as_one_ordered_trace_without_secrets(
    served: Served, collector: tuple[str, Received]
) -> None:
    _url, received = collector
    answer = served.client.post(
        f"{ENV}/connections/{served.connection}/invoke/GetItem",
        json={"item": "5", "q": QUERY_VALUE},
        headers={"X-Request-Id": "otlp-invoke-1", **TRACEPARENT},
    )
    assert answer.status_code == 200, answer.text

    def chain() -> list[dict[str, Any]] | None:
        with received.lock:
            mine = [s for s in received.spans if s["attributes"].get("tether.request_id") == "otlp-invoke-1"]
        by_parent = {s["parent"]: s for s in mine}
        roots = [s for s in mine if s["name"].startswith("POST /api/v1/")]
        if not roots:
            return None
        found = [roots[0]]
        while found[-1]["span_id"] in by_parent:
            found.append(by_parent[found[-1]["span_id"]])
        return found if len(found) == 4 else None

    spans = wait_for(chain, "the invoke's four spans at the collector")
    assert [s["name"] for s in spans][1:] == ["services.invoke", "runtime.invoke", "GET 127.0.0.1"]
    assert {s["trace_id"] for s in spans} == {TRACE_ID}
    assert spans[0]["parent"] == "00f067aa0ba902b7"  # the caller's span
    assert [s["start"] for s in spans] == sorted(s["start"] for s in spans)
    with received.lock:
        everything = json.dumps(received.spans)
    for secret in (KEY, QUERY_VALUE, served.client.headers["Authorization"].split()[1]):
        assert secret not in everything


def test_the_request_id_of_an_error_answer_finds_the_json_log_lines(served: Served, echo_host: str) -> None:
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there: the call fails upstream
    package = echo_package(dead, "query", title="Dead")
    files = {"package": ("dead.zip", package.to_zip(), "application/zip")}
    connector = served.client.post(f"{ENV}/connectors", files=files).json()["id"]
    body = {"connector": connector, "parameters": values_for("query")}
    connection = served.client.post(f"{ENV}/connections", json=body).json()["id"]
    failed = served.client.post(f"{ENV}/connections/{connection}/invoke/GetLatest", headers=TRACEPARENT)
    assert failed.status_code == 502, failed.text
    assert failed.headers["content-type"] == "application/problem+json"
    request_id = failed.json()["requestId"]
    assert request_id == failed.headers["x-request-id"]

    def lines_of_the_request() -> list[dict[str, Any]]:
        found = []
        for line in served.log.read_text().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("request_id") == request_id:
                    found.append(record)
        # The runtime's line about the failed call, and the access log's line of the answer.
        loggers = {r["logger"] for r in found}
        return found if "uvicorn.access" in loggers and any(n.startswith("tether.") for n in loggers) else []

    records = wait_for(lines_of_the_request, f"log lines with request_id {request_id}")
    runtime = next(r for r in records if r["logger"].startswith("tether."))
    assert "failed" in runtime["message"] and runtime["level"] == "WARNING"
    assert {"time", "level", "logger", "message"} <= runtime.keys()
    assert runtime["trace_id"] == TRACE_ID
    text = served.log.read_text()
    assert KEY not in text, "the log redaction applies to JSON lines too"
    for line in text.splitlines():
        if line.startswith("{"):
            json.loads(line)  # every log line is one JSON object
