"""Hostile files against a real ``tether serve``: each refused quickly, clearly, and cheaply.

Bounds asserted for every hostile upload (through the HTTP API of a real server process):
* the answer is a 400 or 413 problem+json naming the limit, within ``ANSWER_SECONDS`` (5 s);
* a concurrent prober sees ``/health`` answer within ``HEALTH_MAX_SECONDS`` (100 ms) every time;
* the server process's peak RSS (VmHWM) stays under ``SERVER_PEAK_RSS`` (300 MiB): parsing
  happens in upload workers, whose own address space is capped (``PARSE_MEMORY_BYTES``).
Plus: the CLI's ``tether validate`` on the same files, legacy IPv4 hosts against the SSRF
guard, a read-only database behind ``/health``, and no server temp path in any message.
"""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import httpx
import pytest
from typer.testing import CliRunner

from tests._load import machine_busy
from tether.api import free_port
from tether.api._upload_workers import UploadWorkers
from tether.cli import app as cli_app
from tether.definition import (
    MAX_NESTING_DEPTH,
    MAX_PACKAGE_BYTES,
    MAX_UPLOAD_BYTES,
    PARSE_MEMORY_BYTES,
    compile_api,
)
from tether.errors import LimitExceeded
from tether.runtime import ConnectionContext, DestinationRefused, NetworkPolicy, Runtime

ADMIN_PASSWORD = "hostile-inputs-admin-1"
ANSWER_SECONDS = 5.0
HEALTH_MAX_SECONDS = 0.100
# On a machine running more runnable tasks than it has cores (a CPU burner beside the suite,
# or several suites on 2 cores), idle /health alone shows spikes of 100-300 ms from
# scheduling; the bound then widens to this, still far below the seconds of a stalled loop.
HEALTH_MAX_SECONDS_OVERLOADED = 0.500
SERVER_PEAK_RSS = 300 * 2**20
CONNECTORS = "/api/v1/environments/default/connectors"

# 383 bytes: nine levels of nine aliases, 9**9 (387 million) nodes when expanded.
ALIAS_BOMB = (
    'swagger: "2.0"\ninfo: {title: bomb, version: "1"}\npaths: {}\n'
    'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    + "".join(f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))
).encode()
DEEP_JSON = b'{"swagger": "2.0", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
DEEP_YAML = b'swagger: "2.0"\nx: ' + b"[" * 500 + b"]" * 500 + b"\n"
DEEP_WSDL = (
    b'<?xml version="1.0"?><definitions xmlns="http://schemas.xmlsoap.org/wsdl/">'
    + b"<a>" * 200
    + b"</a>" * 200
    + b"</definitions>"
)
REF_CYCLE = json.dumps(
    {
        "swagger": "2.0",
        "info": {"title": "Loop", "version": "1"},
        "host": "api.example.com",
        "paths": {
            "/a": {
                "get": {
                    "operationId": "GetA",
                    "summary": "Get A",
                    "description": "Get A",
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/A"}}},
                }
            }
        },
        "definitions": {"A": {"$ref": "#/definitions/B"}, "B": {"$ref": "#/definitions/A"}},
    }
).encode()


def lying_zip(real_bytes: int = 200 * 2**20, claimed_bytes: int = 1000) -> bytes:
    """A zip whose member inflates to ``real_bytes`` while both headers claim ``claimed_bytes``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apiDefinition.swagger.json", b"{}" + b" " * (real_bytes - 2))
    data = bytearray(buffer.getvalue())
    claimed = struct.pack("<I", claimed_bytes)
    local = data.find(b"PK\x03\x04")
    data[local + 22 : local + 26] = claimed  # local header: uncompressed size
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = claimed  # central directory: uncompressed size
    return bytes(data)


def honest_zip_bomb() -> bytes:
    """A zip that truthfully unpacks to more than MAX_PACKAGE_BYTES."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apiDefinition.swagger.json", b"{}" + b" " * (MAX_PACKAGE_BYTES + 1))
    return buffer.getvalue()


# -- a real server ----------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    base: str
    headers: dict[str, str] = field(default_factory=dict)

    def peak_rss(self) -> int:
        """The server process's peak resident memory (VmHWM), in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM in /proc status")


def _start(home: Path, extra_env: dict[str, str] | None = None) -> Server:
    port = free_port()
    env = {**os.environ, "TETHER_HOME": str(home), "TETHER_ADMIN_PASSWORD": ADMIN_PASSWORD}
    env.update(extra_env or {})
    command = [str(Path(sys.executable).parent / "tether"), "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    server = Server(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 90
    while True:
        try:
            httpx.get(f"{server.base}/api/v1/health", timeout=5)
            return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(server)
            raise AssertionError("the server did not start")
        time.sleep(0.1)


def _stop(server: Server) -> str:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
    try:
        output, _ = server.process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        output, _ = server.process.communicate(timeout=30)
    return output


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = _start(tmp_path_factory.mktemp("hostile") / "home")
    try:
        token = httpx.post(
            f"{running.base}/api/v1/tokens",
            json={"name": "hostile"},
            auth=("admin", ADMIN_PASSWORD),
            timeout=30,
        )
        assert token.status_code == 201, token.text
        running.headers = {"Authorization": f"Bearer {token.json()['token']}"}
        # Warm the upload workers so the first hostile test measures the same thing as the rest.
        warm = httpx.post(
            f"{running.base}{CONNECTORS}/validate",
            files={"apiDefinition": ("warm.json", REF_CYCLE)},
            headers=running.headers,
            timeout=60,
        )
        assert warm.status_code == 200, warm.text
        yield running
    finally:
        _stop(running)


# The prober runs in its own process: in this one, building a 50 MB request holds the GIL and
# would show up as /health latency that the server never caused.
PROBER = """
import json, sys, threading, time
import httpx

stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
latencies, failures = [], []
with httpx.Client(base_url=sys.argv[1], timeout=5) as client:
    for _ in range(100_000):  # bounded in count; stopped long before by closing stdin
        started = time.perf_counter()
        try:
            answer = client.get("/api/v1/health")
            if answer.status_code != 200:
                failures.append(answer.text)
        except httpx.HTTPError as exc:
            failures.append(repr(exc))
        latencies.append(time.perf_counter() - started)
        if len(latencies) == 1:
            print("ready", flush=True)
        if stop.is_set():
            break
print(json.dumps({"latencies": latencies, "failures": failures}), flush=True)
"""


class HealthProber:
    """A process calling ``/health`` back to back; every latency and every failed answer is kept."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> HealthProber:
        command = [sys.executable, "-c", PROBER, self.base]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        assert self._process.stdout.readline().strip() == "ready"  # probing began before the request
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._process is not None
        try:
            output, _ = self._process.communicate(input="", timeout=60)
        finally:
            if self._process.poll() is None:
                self._process.kill()
                self._process.wait()
        report = json.loads(output.strip().splitlines()[-1])
        self.latencies, self.failures = report["latencies"], report["failures"]


def hostile(server: Server, path: str, **request: object) -> httpx.Response:
    """Send one hostile request while probing /health; assert the time, health and memory bounds."""
    headers = {**server.headers, **request.pop("headers", {})}  # type: ignore[dict-item]
    with HealthProber(server.base) as prober:
        started = time.monotonic()
        answer = httpx.post(f"{server.base}{path}", headers=headers, timeout=60, **request)  # type: ignore[arg-type]
        elapsed = time.monotonic() - started
    assert elapsed < ANSWER_SECONDS, f"answered after {elapsed:.2f}s"
    assert not prober.failures, prober.failures
    worst = max(prober.latencies)
    probes = len(prober.latencies)
    bound = health_bound()
    assert worst < bound, f"/health p-max {worst * 1000:.0f} ms over {probes} probes (< {bound * 1000:.0f})"
    assert server.peak_rss() < SERVER_PEAK_RSS, f"server peak RSS {server.peak_rss() / 2**20:.0f} MiB"
    return answer


def health_bound() -> float:
    return HEALTH_MAX_SECONDS_OVERLOADED if machine_busy() else HEALTH_MAX_SECONDS


def assert_problem(answer: httpx.Response, status: int, code: str, *words: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"].endswith("/" + code), body
    for word in words:
        assert word in body["detail"], body["detail"]
    assert tempfile.gettempdir() + "/" not in answer.text  # no server temp path
    return body


# -- the hostile uploads ----------------------------------------------------------------------


@pytest.mark.parametrize("route", ["", "/validate"], ids=["create", "validate"])
def test_yaml_alias_bomb_is_refused_in_milliseconds(server: Server, route: str) -> None:
    answer = hostile(server, CONNECTORS + route, files={"apiDefinition": ("bomb.yaml", ALIAS_BOMB)})
    body = assert_problem(answer, 400, "limit-exceeded", "alias", "100,000")
    assert body["limit"] == "MAX_YAML_ALIAS_NODES"


def test_yaml_alias_bomb_import_is_refused(server: Server) -> None:
    answer = hostile(
        server, CONNECTORS + "/import", data={"format": "openapi"}, files={"file": ("bomb.yaml", ALIAS_BOMB)}
    )
    assert_problem(answer, 400, "limit-exceeded", "bomb.yaml", "alias")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("deep.json", DEEP_JSON, id="json-100k-deep"),
        pytest.param("deep.yaml", DEEP_YAML, id="yaml-500-deep"),
    ],
)
def test_deep_documents_are_refused(server: Server, name: str, content: bytes) -> None:
    answer = hostile(server, CONNECTORS, files={"apiDefinition": (name, content)})
    body = assert_problem(answer, 400, "limit-exceeded", f"{MAX_NESTING_DEPTH} levels")
    assert body["limit"] == "MAX_NESTING_DEPTH"


def test_deep_wsdl_is_refused(server: Server) -> None:
    answer = hostile(
        server, CONNECTORS + "/import", data={"format": "wsdl"}, files={"file": ("deep.wsdl", DEEP_WSDL)}
    )
    assert_problem(answer, 400, "limit-exceeded", "deep.wsdl", "XML elements nested")


def test_deep_postman_folders_are_refused(server: Server) -> None:
    item: dict[str, object] = {"name": "r", "request": {"method": "GET", "url": "https://api.example.com/x"}}
    for level in range(200):
        item = {"name": f"folder {level}", "item": [item]}
    schema = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    collection = json.dumps({"info": {"name": "deep", "schema": schema}, "item": [item]}).encode()
    answer = hostile(
        server, CONNECTORS + "/import", data={"format": "postman"}, files={"file": ("deep.json", collection)}
    )
    assert_problem(answer, 400, "limit-exceeded", "deep.json", "levels deep")


def test_ref_cycle_is_a_finding_in_validate_and_a_clear_import_error(server: Server) -> None:
    validated = hostile(server, CONNECTORS + "/validate", files={"apiDefinition": ("loop.json", REF_CYCLE)})
    assert validated.status_code == 200, validated.text
    [finding] = [f for f in validated.json()["findings"] if f["rule"] == "structure/circular-ref"]
    assert "#/definitions/A -> #/definitions/B -> #/definitions/A" in finding["message"]
    imported = hostile(
        server, CONNECTORS + "/import", data={"format": "openapi"}, files={"file": ("loop.json", REF_CYCLE)}
    )
    assert_problem(imported, 400, "invalid-input", "circular $ref", "#/definitions/A")


def test_recursive_schema_is_legal_and_imports(server: Server) -> None:
    node = {"$ref": "#/components/schemas/Node"}
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "Tree", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/tree": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": node}},
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {"children": {"type": "array", "items": node}},
                }
            }
        },
    }
    answer = hostile(
        server,
        CONNECTORS + "/import",
        data={"format": "openapi", "name": "tree"},
        files={"file": ("tree.json", json.dumps(spec).encode())},
    )
    assert answer.status_code == 201, answer.text


def test_zip_whose_header_lies_is_refused_without_inflating(server: Server) -> None:
    answer = hostile(server, CONNECTORS, files={"package": ("lying.zip", lying_zip())})
    assert_problem(answer, 400, "invalid-package", "lying.zip", "damaged")


def test_zip_that_unpacks_past_the_cap_is_413(server: Server) -> None:
    answer = hostile(server, CONNECTORS, files={"package": ("big.zip", honest_zip_bomb())})
    body = assert_problem(answer, 413, "too-large", f"{MAX_PACKAGE_BYTES // 2**20} MiB")
    assert body["limit"] == "MAX_PACKAGE_BYTES"


def test_50_mb_spec_is_413_before_the_body_is_read(server: Server) -> None:
    spec = b'{"swagger": "2.0", "x": "' + b"a" * (50 * 2**20) + b'"}'
    answer = hostile(server, CONNECTORS, files={"apiDefinition": ("huge.json", spec)})
    body = assert_problem(answer, 413, "too-large", f"{MAX_UPLOAD_BYTES // 2**20} MiB")
    assert body["limit"] == "MAX_UPLOAD_BYTES"


def test_chunked_body_past_the_cap_is_413(server: Server) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the middleware counts
        yield b'--x\r\nContent-Disposition: form-data; name="apiDefinition"; filename="big.json"\r\n\r\n'
        for _ in range(MAX_UPLOAD_BYTES // 2**20 + 2):
            yield b"a" * 2**20

    answer = hostile(
        server,
        CONNECTORS,
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert_problem(answer, 413, "too-large")


def test_messages_name_the_upload_never_a_server_temp_path(server: Server) -> None:
    broken = b'{"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {},}}'
    for form, name in (({"format": "openapi"}, "my-api.json"), ({"format": "wsdl"}, "my-service.wsdl")):
        answer = hostile(server, CONNECTORS + "/import", data=form, files={"file": (name, broken)})
        body = assert_problem(answer, 400, "document-syntax", name)
        assert body["file"] == name
        assert "tether-upload-" not in answer.text and "/tmp" not in answer.text


def test_the_upload_worker_is_killed_past_its_time_limit() -> None:
    # A legitimately big package (lint of 3,000 operations) with a 0.2 s limit: killed, then replaced.
    paths = {
        f"/items{i}": {"get": {"operationId": f"Get{i}", "responses": {"200": {"description": "ok"}}}}
        for i in range(3000)
    }
    spec = json.dumps({"swagger": "2.0", "info": {"title": "Big", "version": "1"}, "paths": paths}).encode()
    workers = UploadWorkers(size=1, timeout=0.2)
    try:
        header = {"job": "package", "names": ["apiDefinition.swagger.json"], "source": "upload"}
        with pytest.raises(LimitExceeded) as caught:
            anyio.run(workers.run, header, [spec])
        assert caught.value.limit == "PARSE_TIMEOUT_SECONDS"
        assert not workers._idle  # the worker that ran out of time is gone, not reused
        workers.timeout = 60
        answer, _files = anyio.run(workers.run, header, [b'{"swagger": "2.0", "paths": {}}'])
        assert answer["names"] == ["apiDefinition.swagger.json"]  # a fresh worker took the next job
    finally:
        workers.close()


def test_the_upload_worker_memory_cap_is_a_clear_error() -> None:
    # 200 MiB of address space for a job that needs more (a 30 MiB array of small numbers).
    spec = b'{"swagger": "2.0", "x": [' + b"1," * (15 * 2**20) + b"1]}"
    workers = UploadWorkers(size=1, memory_bytes=200 * 2**20)
    try:
        header = {"job": "package", "names": ["apiDefinition.swagger.json"], "source": "upload"}
        with pytest.raises(LimitExceeded) as caught:
            anyio.run(workers.run, header, [spec])
        assert caught.value.limit == "PARSE_MEMORY_BYTES"
        assert "memory" in caught.value.message
    finally:
        workers.close()
    assert PARSE_MEMORY_BYTES >= 512 * 2**20  # the real cap leaves room for real definitions


# -- the CLI --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "rule", "words"),
    [
        pytest.param("bomb.yaml", ALIAS_BOMB, "input/limit-exceeded", "alias", id="alias-bomb"),
        pytest.param("deep.json", DEEP_JSON, "input/limit-exceeded", "levels deep", id="deep-json"),
        pytest.param("deep.yaml", DEEP_YAML, "input/limit-exceeded", "levels deep", id="deep-yaml"),
        pytest.param("loop.json", REF_CYCLE, "structure/circular-ref", "circular $ref", id="ref-cycle"),
    ],
)
def test_validate_reports_each_as_a_finding_quickly(
    tmp_path: Path, name: str, content: bytes, rule: str, words: str
) -> None:
    target = tmp_path / name
    target.write_bytes(content)
    started = time.monotonic()
    result = CliRunner().invoke(cli_app, ["validate", str(target), "--json"])
    assert time.monotonic() - started < ANSWER_SECONDS
    assert result.exit_code == 1, result.output
    [outcome] = json.loads(result.output)["results"]
    assert outcome["error"] is None
    [finding] = [f for f in outcome["findings"] if f["rule"] == rule]
    assert finding["severity"] == "error" and words in finding["message"]
    assert finding["file"] == str(target)


# -- legacy IPv4 hosts -------------------------------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def loopback_api() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"reached": true}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _api_on(host: str):
    return compile_api(
        {
            "swagger": "2.0",
            "info": {"title": "Legacy", "version": "1"},
            "host": host,
            "schemes": ["http"],
            "paths": {"/x": {"get": {"operationId": "GetX", "responses": {"200": {"description": "ok"}}}}},
        },
        name="legacy",
    )


LEGACY_LOOPBACK = ["0177.0.0.1", "0x7f.1", "2130706433", "127.1", "0x7F000001", "017700000001"]


@pytest.mark.anyio
@pytest.mark.parametrize("host", LEGACY_LOOPBACK)
async def test_legacy_ipv4_loopback_is_refused_as_loopback(loopback_api: int, host: str) -> None:
    async with Runtime() as runtime:
        for api, connection in (
            (_api_on(f"{host}:{loopback_api}"), ConnectionContext()),
            (_api_on("api.example.com"), ConnectionContext(base_url=f"http://{host}:{loopback_api}")),
        ):
            with pytest.raises(DestinationRefused) as caught:
                await runtime.invoke(api, "GetX", connection=connection)
            assert caught.value.reason == "loopback" and caught.value.status == 403
            assert "127.0.0.1" in caught.value.message and "allow_loopback" in caught.value.message


@pytest.mark.anyio
@pytest.mark.parametrize("host", LEGACY_LOOPBACK)
async def test_legacy_ipv4_is_the_address_the_os_would_connect_to(loopback_api: int, host: str) -> None:
    async with Runtime(network_policy=NetworkPolicy(allow_loopback=True)) as runtime:
        answer = await runtime.invoke(_api_on(f"{host}:{loopback_api}"), "GetX")
    assert answer.body == {"reached": True}


# -- a read-only database ----------------------------------------------------------------------


def test_read_only_database_fails_health_with_a_clear_problem(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _stop(_start(home))  # a first start creates, migrates and fills the database
    database = home / "tether.db"
    assert database.is_file()
    # Root ignores file modes, so the database is opened read-only the way a read-only mount does.
    read_only = _start(home, {"TETHER_DATABASE_URL": f"sqlite:///file:{database}?mode=ro&uri=true"})
    try:
        health = httpx.get(f"{read_only.base}/api/v1/health", timeout=30)
        assert_problem(health, 503, "database-read-only", "read-only", "writable")
        token = httpx.post(
            f"{read_only.base}/api/v1/tokens", json={"name": "t"}, auth=("admin", ADMIN_PASSWORD), timeout=30
        )
        assert_problem(token, 503, "database-read-only", "read-only")
    finally:
        _stop(read_only)
