"""A real Tether server (uvicorn on a loopback port, SQLite) with metrics on and spans collected
in memory, beside the echo API its connector calls. One per module: starting them is the slow part."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.services._invoke_kit import echo_app, echo_package, values_for
from tether import services, telemetry
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.store import Database, migrate

ENV = "/api/v1/environments/default"
ADMIN_PASSWORD = "observability-admin-pw"
METRICS_TOKEN = "metrics-scrape-token-0123456789"


@dataclass
class Server:
    url: str
    client: httpx.Client  # signed in as admin
    connector_id: str
    connection: str


@pytest.fixture(scope="module")
def echo_host() -> Iterator[str]:
    with serve_in_thread(echo_app()) as url:  # type: ignore[arg-type]
        yield url.removeprefix("http://")


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span the process ends, kept in memory (the SDK's own test exporter)."""
    exporter = InMemorySpanExporter()
    telemetry.enable_tracing(SimpleSpanProcessor(exporter))
    yield exporter
    telemetry.disable_tracing()


def connect(client: httpx.Client, echo_host: str) -> tuple[str, str]:
    """Loopback allowed, the echo connector (API key in the query), a connection with the key."""
    client.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}).raise_for_status()
    package = echo_package(echo_host, "query")
    files = {"package": ("echo.zip", package.to_zip(), "application/zip")}
    connector = client.post(f"{ENV}/connectors", files=files)
    assert connector.status_code == 201, connector.text
    body = {"connector": connector.json()["id"], "parameters": values_for("query")}
    connection = client.post(f"{ENV}/connections", json=body)
    assert connection.status_code == 201, connection.text
    return connector.json()["id"], connection.json()["id"]


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, echo_host: str, spans: InMemorySpanExporter
) -> Iterator[Server]:
    home: Path = tmp_path_factory.mktemp("observability") / "home"
    home.mkdir(mode=0o700)
    settings = load_settings(home=home, admin_password=ADMIN_PASSWORD, metrics_token=METRICS_TOKEN)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    try:
        with (
            serve_in_thread(create_app(settings, database)) as url,
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            token = client.post("/api/v1/tokens", json={"name": "t"}, auth=("admin", ADMIN_PASSWORD))
            assert token.status_code == 201, token.text
            client.headers["Authorization"] = f"Bearer {token.json()['token']}"
            connector_id, connection = connect(client, echo_host)
            yield Server(url, client, connector_id, connection)
    finally:
        telemetry.disable_metrics()
        database.close()


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """``check()``'s first truthy answer, polled until ``timeout`` (then the test fails saying ``what``)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def child_of(parent: ReadableSpan, candidates: list[ReadableSpan], name: str) -> ReadableSpan:
    """The one span named ``name`` (or starting with it) whose parent is ``parent``."""
    assert parent.context is not None
    found = [
        s
        for s in candidates
        if (s.name == name or s.name.startswith(name))
        and s.parent is not None
        and s.parent.span_id == parent.context.span_id
    ]
    assert len(found) == 1, (name, [(s.name, s.parent) for s in candidates])
    return found[0]


def attribute_text(spans: list[ReadableSpan]) -> str:
    """Every span name, attribute name and value, and event, as one text to search for secrets."""
    parts: list[str] = []
    for s in spans:
        parts.append(s.name)
        parts.extend(f"{k}={v}" for k, v in (s.attributes or {}).items())
        for event in s.events:
            parts.extend(f"{k}={v}" for k, v in (event.attributes or {}).items())
        parts.append(str(s.status.description))
    return "\n".join(parts)
