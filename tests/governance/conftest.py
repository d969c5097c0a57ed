"""Governance tests: one real Tether server (uvicorn on a loopback port) for the session, the Greeter
over HTTPS, and users with every role: a platform admin, two makers, a plain user, a certifier."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.governance._audit_kit import cli, world  # noqa: F401  (the redirect-audit tests' fixtures)
from tests.governance._kit import greeter_service, make_tls, redirect_service, serve_tls
from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.runtime import GuardedTransport, Runtime
from tether.services import Principal
from tether.store import Database, migrate

PASSWORD = "governance-admin-password"
# Makers ada and bob, user uma, certifier cora, environment admin eve, nora in no environment.
USERS = ("ada", "bob", "uma", "cora", "eve", "nora")
_names = itertools.count(1)


@dataclass
class Gov:
    """The server, a client per user (base URL /api/v1), and the Greeter's host:port."""

    url: str
    greeter: str
    redirector: str  # http://127.0.0.1:PORT: GET /go?to=URL answers 302 to URL
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def __getitem__(self, user: str) -> httpx.Client:
        return self.clients[user]

    def environment(
        self,
        *,
        makers: tuple[str, ...] = ("ada", "bob"),
        users: tuple[str, ...] = ("uma",),
        admins: tuple[str, ...] = (),
    ) -> str:
        """A fresh environment with these members (roles by argument); loopback reachable."""
        name = f"gov-{next(_names)}"
        admin = self["admin"]
        assert admin.post("/environments", json={"name": name}).status_code == 201
        roles = [
            *((m, "maker") for m in makers),
            *((u, "user") for u in users),
            *((a, "admin") for a in admins),
        ]
        for username, role in roles:
            answer = admin.put(f"/environments/{name}/members", json={"username": username, "role": role})
            assert answer.status_code == 200, answer.text
        answer = admin.put(f"/environments/{name}/settings", json={"network_allow": ["127.0.0.1"]})
        assert answer.status_code == 200, answer.text
        return name

    def connector(self, user: str, env: str, package: bytes, name: str) -> dict[str, Any]:
        answer = self[user].post(
            f"/environments/{env}/connectors", files={"package": ("p.zip", package)}, data={"name": name}
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    def connection(self, user: str, env: str, connector: str, key: str) -> str:
        answer = self[user].post(
            f"/environments/{env}/connections", json={"connector": connector, "parameters": {"api_key": key}}
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])


@pytest.fixture(scope="session")
def gov(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gov]:
    home = tmp_path_factory.mktemp("governance")
    tls = make_tls(home)
    settings = load_settings(home=home / "server", admin_password=PASSWORD)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    app = create_app(settings, database)
    # The production transport, trusting the test CA: certification requires HTTPS.
    runtime = Runtime(transport=GuardedTransport(verify=tls.client_context()), deadline=30.0)
    app.state.connector_runner = _ClosingConnectorRunner(runtime)
    app.state.connector_runner_owned = True  # the app closes it at shutdown, on its own event loop
    with (
        serve_tls(greeter_service(), tls) as greeter,
        serve_in_thread(redirect_service()) as redirector,
        serve_in_thread(app) as url,
    ):
        world = Gov(url=url, greeter=greeter, redirector=redirector)
        try:
            world.clients["admin"] = _client(url, "admin", PASSWORD)
            for username in USERS:
                answer = world["admin"].post("/users", json={"username": username})  # token-only users
                assert answer.status_code == 201, answer.text
                # Their tokens are made in process: no password hashing to wait for, as API tokens.
                user = Principal(user_id=answer.json()["id"], username=username)
                plaintext, _info = services.create_token(database, user, "governance tests")
                world.clients[username] = _token_client(url, plaintext)
            assert world["admin"].put("/certifiers/cora").status_code == 200
            yield world
        finally:
            for client in world.clients.values():
                client.close()
    database.close()


class _ClosingConnectorRunner(services.ConnectorRunner):
    """A connector runtime that also closes the runtime it was given (its pool lives on the app's loop)."""

    async def aclose(self) -> None:
        await super().aclose()
        await self.runtime.aclose()


def _client(url: str, username: str, password: str) -> httpx.Client:
    token = httpx.post(f"{url}/api/v1/tokens", json={"name": "t"}, auth=(username, password), timeout=30)
    assert token.status_code == 201, token.text
    return _token_client(url, token.json()["token"])


def _token_client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60)
