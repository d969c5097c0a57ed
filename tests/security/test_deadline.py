"""One overall deadline per upstream call: a hung API with retries configured ends at it.

The hung upstream is a real socket server that accepts connections and reads requests but never
answers. The runtime (retrying GETs) gives up at its deadline however many attempts remain; the
server answers 504 ``upstream-timeout`` naming the API; ``tether invoke`` prints that, not
"cannot reach the Tether server". An address nobody listens on is 502 ``upstream-unavailable``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.security._kit import Live, connect, serve_tether, upload
from tests.services._invoke_kit import echo_package
from tether.cli import app
from tether.cli._client import DEFAULT_TIMEOUT as CLI_TIMEOUT
from tether.config import Settings
from tether.definition import compile_api
from tether.runtime import (
    DEFAULT_DEADLINE,
    ConnectionContext,
    NetworkPolicy,
    RetryPolicy,
    Runtime,
    UpstreamTimeout,
)

DEADLINE = 2.0
# What may pass beyond a deadline on a busy 2-core machine before the answer is back.
SLACK = 6.0


class HungServer:
    """Accepts connections and reads what arrives, never answering; counts the connections."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            self._held.append(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for connection in self._held:
            connection.close()
        self._listener.close()


@pytest.fixture(scope="module")
def hung() -> Iterator[HungServer]:
    server = HungServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from serve_tether(tmp_path_factory.mktemp("deadline-home"), upstream_deadline=DEADLINE)


def test_the_runtime_stops_retrying_at_its_deadline(hung: HungServer) -> None:
    """Each attempt times out at 0.5 s and 20 attempts are allowed: the 1.5 s deadline ends it."""
    latest = {"get": {"operationId": "GetLatest", "responses": {"200": {"description": "ok"}}}}
    spec = {
        "swagger": "2.0",
        "info": {"title": "Hung", "version": "1"},
        "host": f"127.0.0.1:{hung.port}",
        "schemes": ["http"],
        "paths": {"/latest": latest},
    }
    api = compile_api(spec, name="hung")
    late = r"the API at 127\.0\.0\.1 did not answer within 1\.5 s"

    async def call() -> float:
        retry = RetryPolicy(max_attempts=20, backoff=0.01, max_backoff=0.01)
        policy = NetworkPolicy(allow_loopback=True)
        async with Runtime(network_policy=policy, retry=retry, timeout=0.5, deadline=1.5) as runtime:
            started = time.monotonic()
            with pytest.raises(UpstreamTimeout, match=late):
                await runtime.invoke(api, "GetLatest", connection=ConnectionContext())
            return time.monotonic() - started

    before = hung.accepted
    elapsed = asyncio.run(call())
    assert 1.5 <= elapsed < 1.5 + SLACK
    assert hung.accepted - before >= 2, "the deadline should leave room for retries"


def test_a_hung_api_is_504_and_the_cli_says_so(live: Live, hung: HungServer, tmp_path: Path) -> None:
    connector = upload(live, echo_package(f"127.0.0.1:{hung.port}", "none", title="Hung"), "hung")
    connection = connect(live, connector["id"], {})
    started = time.monotonic()
    answer = live.api("POST", f"/environments/default/connections/{connection}/invoke/GetLatest", json={})
    elapsed = time.monotonic() - started
    assert answer.status_code == 504, answer.text
    problem = answer.json()
    assert problem["type"].endswith("upstream-timeout")
    assert f"the API at 127.0.0.1 did not answer within {DEADLINE:g} s" in problem["detail"]
    assert DEADLINE <= elapsed < DEADLINE + SLACK

    token = live.http.headers["Authorization"].removeprefix("Bearer ")
    result = CliRunner().invoke(
        app,
        ["invoke", connection, "GetLatest", "--server", live.url, "--token", token],
        env={"TETHER_HOME": str(tmp_path / "cli-home")},
    )
    assert result.exit_code != 0
    output = " ".join(result.output.split())
    assert f"the API at 127.0.0.1 did not answer within {DEADLINE:g} s" in output, result.output
    assert "cannot reach the Tether server" not in output


def test_an_unreachable_api_is_502(live: Live) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    connector = upload(live, echo_package(f"127.0.0.1:{port}", "none", title="Gone"), "gone")
    connection = connect(live, connector["id"], {})
    answer = live.api("POST", f"/environments/default/connections/{connection}/invoke/GetLatest", json={})
    assert answer.status_code == 502, answer.text
    assert answer.json()["type"].endswith("upstream-unavailable")


def test_the_cli_waits_longer_than_any_server_deadline() -> None:
    longest = Settings.model_fields["upstream_deadline"].metadata
    ceiling = next(m.le for m in longest if getattr(m, "le", None) is not None)
    assert CLI_TIMEOUT.read is not None
    assert CLI_TIMEOUT.read > max(ceiling, DEFAULT_DEADLINE)
    assert isinstance(CLI_TIMEOUT, httpx.Timeout)
