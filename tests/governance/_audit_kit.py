"""A real Tether server, a real SMTP server (aiosmtpd) and an environment of makers' connectors.

Five custom connectors by two makers, as the redirect-URI audit acceptance describes: API key and
OAuth on the global redirect URI and OAuth per-connector by Alice; Basic and a multi-auth one
(one OAuth set per-connector, one on the global URI) by Bob.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from tether import services
from tether.api import create_app, free_port, serve_in_thread
from tether.cli import app as cli_app
from tether.config import load_settings
from tether.store import Database, migrate

PASSWORD = "governance-admin-password"
MAKER_PASSWORD = "maker-password-1"
ENV = "gov"


class Mailbox:
    """aiosmtpd's handler: every message the server accepted, with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def since(self, start: int, count: int, *, timeout: float = 60.0) -> list[tuple[list[str], EmailMessage]]:
        """The messages after the first ``start``, once ``count`` of them arrived (or fail)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= start + count:
                    return self.messages[start:]
            time.sleep(0.05)
        raise AssertionError(f"expected {count} new email(s); got {self.count() - start}")


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


@dataclass
class World:
    url: str
    smtp_port: int
    mailbox: Mailbox
    tokens: dict[str, str] = field(default_factory=dict)
    connectors: dict[str, str] = field(default_factory=dict)

    def http(self, user: str = "admin") -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {self.tokens[user]}"},
            timeout=60,
        )


def _oauth(mode: str, *, provider: str = "oauth2") -> dict[str, Any]:
    return {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": provider,
            "clientId": "governance-client",
            "scopes": ["read"],
            "redirectMode": mode,
            "properties": {"IsFirstParty": "False"},
            "customParameters": {
                "authorizationUrl": {"value": "https://login.example.test/authorize"},
                "tokenUrl": {"value": "https://login.example.test/token"},
                "refreshUrl": {"value": "https://login.example.test/token"},
            },
        },
    }


def _secure(label: str) -> dict[str, Any]:
    return {
        "type": "securestring",
        "uiDefinition": {"displayName": label, "constraints": {"required": "true"}},
    }


def _text(label: str) -> dict[str, Any]:
    return {"type": "string", "uiDefinition": {"displayName": label, "constraints": {"required": "true"}}}


def package_files(title: str, properties: dict[str, Any], security: dict[str, Any] | None = None) -> dict:
    definition = {
        "swagger": "2.0",
        "info": {"title": title, "version": "1"},
        "host": "api.example.test",
        "schemes": ["https"],
        "basePath": "/",
        "paths": {"/me": {"get": {"operationId": "Me", "responses": {"200": {"description": "ok"}}}}},
    }
    if security:
        definition["securityDefinitions"] = security
    return {
        "apiDefinition": ("apiDefinition.swagger.json", json.dumps(definition).encode(), "application/json"),
        "apiProperties": (
            "apiProperties.json",
            json.dumps({"properties": properties}).encode(),
            "application/json",
        ),
    }


# (maker, connector name, title, apiProperties.properties, securityDefinitions)
_BASIC = {"username": _text("User"), "password": _secure("Pw")}
_SETS = [
    {"name": "own", "parameters": {"token": _oauth("GlobalPerConnector", provider="aad")}},
    {"name": "shared", "parameters": {"token": _oauth("Global")}},
    {"name": "key", "parameters": {"api_key": _secure("Key")}},
]
CONNECTORS = [
    ("alice", "keyed", "Keyed API", {"connectionParameters": {"api_key": _secure("Key")}},
     {"k": {"type": "apiKey", "in": "header", "name": "X-Key"}}),
    ("alice", "oauth-global", "OAuth Global", {"connectionParameters": {"token": _oauth("Global")}}, None),
    ("alice", "oauth-own", "OAuth Own",
     {"connectionParameters": {"token": _oauth("GlobalPerConnector")}}, None),
    ("bob", "basic-api", "Basic API", {"connectionParameters": _BASIC}, {"b": {"type": "basic"}}),
    ("bob", "multi", "Multi Auth", {"connectionParameterSets": {"values": _SETS}}, None),
]  # fmt: skip


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = load_settings(home=tmp_path_factory.mktemp("governance-home"), admin_password=PASSWORD)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    mailbox = Mailbox()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with serve_in_thread(create_app(settings, database)) as url:
            found = World(url=url, smtp_port=smtp_port, mailbox=mailbox)
            _populate(found)
            yield found
    finally:
        controller.stop()
        database.close()


def _token(url: str, username: str, password: str) -> str:
    answer = httpx.post(f"{url}/api/v1/tokens", json={"name": "t"}, auth=(username, password), timeout=60)
    answer.raise_for_status()
    return str(answer.json()["token"])


def _populate(world: World) -> None:
    world.tokens["admin"] = _token(world.url, "admin", PASSWORD)
    with world.http() as admin:
        admin.post("/environments", json={"name": ENV}).raise_for_status()
        admin.put(f"/environments/{ENV}/settings", json={"network_allow": ["127.0.0.1"]}).raise_for_status()
        for user, name in (("alice", "Alice Maker"), ("bob", "Bob Builder")):
            body = {
                "username": user,
                "password": MAKER_PASSWORD,
                "display_name": name,
                "email": f"{user}@example.test",
            }
            admin.post("/users", json=body).raise_for_status()
            admin.put(
                f"/environments/{ENV}/members", json={"username": user, "role": "maker"}
            ).raise_for_status()
            world.tokens[user] = _token(world.url, user, MAKER_PASSWORD)
    for maker, name, title, properties, security in CONNECTORS:
        with world.http(maker) as http:
            answer = http.post(
                f"/environments/{ENV}/connectors",
                files=package_files(title, properties, security),
                data={"name": name},
            )
            assert answer.status_code == 201, answer.text
            world.connectors[name] = answer.json()["id"]


@dataclass
class Cli:
    runner: CliRunner

    def __call__(self, *args: str):
        return self.runner.invoke(cli_app, list(args))


@pytest.fixture
def cli(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI logged in as the platform admin, with its own TETHER_HOME."""
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "cli-home"))
    for name in ("TETHER_URL", "TETHER_TOKEN", "TETHER_ENVIRONMENT", "TETHER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HOST", "PORT", "TLS", "FROM", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"TETHER_SMTP_{name}", raising=False)
    runner = Cli(CliRunner())
    result = runner("login", "--server", world.url, "--username", "admin", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    return runner
