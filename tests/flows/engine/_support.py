"""Helpers for engine tests: a local HTTP backend that counts calls, a recording connector, and a runner."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tether.flows import load_flow
from tether.flows.engine import (
    EngineServices,
    MemoryJournal,
    RunOutcome,
    RunSpec,
    RunState,
    VirtualClock,
    execute_run,
    manual_trigger_result,
)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class Backend:
    """A real HTTP server on 127.0.0.1 with scripted answers, recording every request.

    Paths: ``/echo``; ``/status/{code}`` (``?retry_after=S``); ``/flaky/{key}/{n}`` (503 n times, then
    200; ``?retry_after=S``); ``/async/{key}/{polls}`` (202 + Location until done); ``/slow?s=S``.
    """

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode()
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                with backend.lock:
                    backend.requests.append(Seen(self.command, url.path, dict(self.headers.items()), body))
                status, headers, answer = backend.answer(
                    self.command, url.path, query, body, dict(self.headers)
                )
                data = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if answer is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(
        self, method: str, path: str, query: Mapping[str, str], body: Any, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        parts = path.strip("/").split("/")
        extra = {"Retry-After": query["retry_after"]} if "retry_after" in query else {}
        with self.lock:
            self.counts[path] += 1
            count = self.counts[path]
        if parts[0] == "echo":
            return (
                200,
                {},
                {
                    "method": method,
                    "query": dict(query),
                    "body": body,
                    "idempotency": headers.get("Idempotency-Key"),
                },
            )
        if parts[0] == "status":
            return int(parts[1]), extra, {"status": int(parts[1])}
        if parts[0] == "flaky":
            if count <= int(parts[2]):
                return 503, extra, {"error": "busy"}
            return 200, {}, {"ok": True, "attempts": count}
        if parts[0] == "async":
            if count <= int(parts[2]):
                return 202, {"Location": f"{self.url}{path}", "Retry-After": "3"}, None
            return 200, {}, {"done": True, "polls": count}
        if parts[0] == "slow":
            time.sleep(float(query.get("s", "1")))
            return 200, {}, {"slow": True}
        return 404, {}, {"error": "no such path"}

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class RecordingConnector:
    """A fake ConnectorCaller: answers from a table and records every call (no real connector runtime)."""

    answers: dict[str, tuple[int, dict[str, str], Any]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def call(
        self,
        connection_name: str,
        method: str,
        path: str,
        queries: Mapping[str, Any],
        headers: Mapping[str, str],
        body: Any,
        idempotency_key: str,
    ) -> tuple[int, Mapping[str, str], Any]:
        self.calls.append(
            {
                "connection": connection_name,
                "method": method,
                "path": path,
                "queries": dict(queries),
                "body": body,
                "key": idempotency_key,
            }
        )
        for prefix, answer in self.answers.items():
            if path.startswith(prefix) or method == prefix:
                return answer
        return 200, {}, {"id": "item-1", "value": [], "notes": [{"body": "n1"}, {"body": "n2"}]}


@dataclass
class Result:
    outcome: RunOutcome
    journal: MemoryJournal
    clock: VirtualClock

    @property
    def status(self) -> str:
        return self.outcome.status

    def action(self, path: str) -> Any:
        return self.journal.state.records[path]

    def statuses(self) -> dict[str, str]:
        return {path: r.status for path, r in self.journal.state.records.items()}


def definition(
    actions: dict[str, Any],
    *,
    trigger: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "triggers": {"manual": trigger or {"type": "Request", "kind": "Http"}},
        "actions": actions,
        "parameters": parameters or {},
        "outputs": outputs or {},
    }


async def run(
    document: Any,
    body: Any = None,
    *,
    services: EngineServices | None = None,
    journal: MemoryJournal | None = None,
    state: RunState | None = None,
    run_id: str = "run-1",
    parameters: dict[str, Any] | None = None,
) -> Result:
    """Run a definition to the end on a virtual clock and an in-memory journal."""
    services = services or EngineServices(clock=VirtualClock())
    journal = journal or MemoryJournal()
    flow = load_flow(document)
    values = {
        name: spec.get("defaultValue") for name, spec in flow.parameters.items() if isinstance(spec, dict)
    }
    values.update(parameters or {})
    spec = RunSpec(run_id, flow, manual_trigger_result("manual", body, services.clock.now()), values)
    try:
        outcome = await execute_run(spec, journal, services, state)
    finally:
        await services.aclose()
    return Result(outcome, journal, services.clock)  # type: ignore[arg-type]
