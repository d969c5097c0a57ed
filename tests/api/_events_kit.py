"""A real server (fast webhook retries), a real webhook receiver and a real SMTP server, per module.

The receiver is a plain ``http.server`` on 127.0.0.1 in a thread: each path answers from a queue
of statuses (then 200), and every request it got is kept with its headers and exact body.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from tests.conftest import BACKENDS
from tests.governance._audit_kit import Mailbox
from tether import services
from tether.api import create_app, free_port, serve_in_thread
from tether.config import Settings, load_settings
from tether.store import Database, migrate

PASSWORD = "events-admin-password"
MAKER_PASSWORD = "events-maker-password"
FAILING_FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {
        "Stop": {
            "type": "Terminate",
            "inputs": {"runStatus": "Failed", "runError": {"code": "Broken", "message": "always fails"}},
        }
    },
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each path from its queue of statuses (200 once empty) and keeps every request."""

    url: str
    requests: list[Received] = field(default_factory=list)
    plans: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def wait(self, path: str, count: int, *, timeout: float = 60.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.at(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{path}: expected {count} request(s), got {len(self.at(path))}")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with receiver.lock:
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                plan = receiver.plans.get(self.path) or []
                code = plan.pop(0) if plan else 200
            self.send_response(code)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@dataclass
class World:
    url: str
    app: FastAPI
    settings: Settings
    db: Database
    receiver: Receiver
    mailbox: Mailbox
    smtp_port: int
    tokens: dict[str, str]

    def http(self, user: str = "admin") -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {self.tokens[user]}"},
            timeout=60,
        )

    def environment(self, *, makers: tuple[str, ...] = ("alice", "bob")) -> str:
        """A new environment open to loopback, with the makers as members."""
        name = f"ev-{uuid.uuid4().hex[:8]}"
        with self.http() as admin:
            admin.post("/environments", json={"name": name}).raise_for_status()
            admin.put(
                f"/environments/{name}/settings", json={"network_allow": ["127.0.0.1"]}
            ).raise_for_status()
            for user in makers:
                admin.put(
                    f"/environments/{name}/members", json={"username": user, "role": "maker"}
                ).raise_for_status()
        return name


def wait_for(check: Callable[[], Any], *, timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _token(url: str, username: str, password: str) -> str:
    answer = httpx.post(f"{url}/api/v1/tokens", json={"name": "t"}, auth=(username, password), timeout=60)
    answer.raise_for_status()
    return str(answer.json()["token"])


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home: Path = tmp_path_factory.mktemp("events")
    name = ""
    if request.param == "sqlite":
        path = home / "tether.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"events_{uuid.uuid4().hex[:12]}"
        server.execute(f"CREATE DATABASE {name}")
        url = server.url(name)
    database = Database(url)
    migrate(database)
    # Retries after 0.3 s (twice), passes every 0.1 s: the retry tests take a second, not an hour.
    settings = load_settings(
        home=home / "home",
        database_url=url,
        admin_password=PASSWORD,
        webhook_retry_seconds="0.3,0.3",
        event_dispatch_seconds=0.1,
    )
    services.bootstrap(database, settings)
    receiver_port, smtp_port = free_port(), free_port()
    receiver = Receiver(url=f"http://127.0.0.1:{receiver_port}")
    http_server = ThreadingHTTPServer(("127.0.0.1", receiver_port), _handler(receiver))
    receiver_thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    receiver_thread.start()
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    app = create_app(settings, database)
    try:
        with serve_in_thread(app) as base:
            tokens = {"admin": _token(base, "admin", PASSWORD)}
            with httpx.Client(
                base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {tokens['admin']}"}
            ) as admin:
                for user in ("alice", "bob"):
                    body = {"username": user, "password": MAKER_PASSWORD, "display_name": user.title(),
                            "email": f"{user}@example.test"}  # fmt: skip
                    admin.post("/users", json=body).raise_for_status()
                    tokens[user] = _token(base, user, MAKER_PASSWORD)
            yield World(base, app, settings, database, receiver, mailbox, smtp_port, tokens)
    finally:
        controller.stop()
        http_server.shutdown()
        http_server.server_close()
        receiver_thread.join(timeout=10)
        database.close()
        if name:
            request.getfixturevalue("postgres_server").execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
