"""Single sign-on end to end against a real OpenID Connect provider (django-oauth-toolkit with OIDC).

The provider (tests/oauth_server) enforces PKCE, exact redirect URIs and client authentication,
signs ID tokens with a fresh RSA key, and adds ``preferred_username`` and a ``groups`` claim
(``tests.oauth_server.app.GROUPS``). Tether runs in process; the browser's part is played by the
test client (which keeps the SSO cookie) and ``oauth_server.authorize`` (the provider's consent).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN_PASSWORD
from tests.oauth_server.fixtures import OAuthServer
from tether import services
from tether.api import create_app
from tether.config import load_settings
from tether.store import Database

ENV = "/api/v1/environments/default"


@pytest.fixture
def sso_app(
    tmp_path: Path, _sqlite_template: Path, oauth_server: OAuthServer
) -> Iterator[Callable[..., TestClient]]:
    """Start Tether configured for the provider; ``sso_app(local_passwords=False)`` for SSO-only."""
    shutil.copyfile(_sqlite_template, tmp_path / "tether.db")
    url = f"sqlite:///{tmp_path / 'tether.db'}"
    database = Database(url)
    clients: list[TestClient] = []

    def start(**overrides: Any) -> TestClient:
        settings = load_settings(
            home=tmp_path / "home",
            database_url=url,
            admin_password=ADMIN_PASSWORD,
            public_url="http://127.0.0.1:8765",
            oidc_issuer=oauth_server.issuer,
            oidc_client_id=oauth_server.sso_client_id,
            oidc_client_secret=oauth_server.sso_client_secret,
            oidc_allow_hosts="127.0.0.1",
            **overrides,
        )
        services.bootstrap(database, settings)
        client = TestClient(create_app(settings, database))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)
    database.close()


def _login(client: TestClient, oauth_server: OAuthServer, user: str) -> dict[str, Any]:
    started = client.get("/sso/login", follow_redirects=False)
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert location.startswith(oauth_server.authorization_url) and "code_challenge_method=S256" in location
    code, state = oauth_server.authorize(location, user=user)
    finished = client.get("/sso/callback", params={"code": code, "state": state})
    assert finished.status_code == 200, finished.text
    assert finished.headers["cache-control"] == "no-store"
    return dict(finished.json())


def _admin(client: TestClient) -> dict[str, str]:
    created = client.post("/api/v1/tokens", json={"name": "t"}, auth=("admin", ADMIN_PASSWORD))
    return {"Authorization": f"Bearer {created.json()['token']}"}


def test_first_login_creates_the_user_and_group_claim_maps_to_a_role(
    sso_app: Callable[..., TestClient], oauth_server: OAuthServer
) -> None:
    client = sso_app()
    admin = _admin(client)
    alice = _login(client, oauth_server, "alice")
    assert (alice["username"], alice["created"], alice["groups"]) == ("alice", True, ["sales"])
    headers = {"Authorization": f"Bearer {alice['token']}"}
    assert client.get("/api/v1/me", headers=headers).json()["username"] == "alice"
    # Her group came from the claim; until it has a role in the environment, she has none.
    assert client.get(ENV, headers=headers).status_code == 404
    mapped = client.put(f"{ENV}/groups", json={"group": "sales", "role": "maker"}, headers=admin)
    assert mapped.status_code == 200, mapped.text
    assert client.get(ENV, headers=headers).json()["role"] == "maker"
    # A second login finds the same user; the audit log says how she signed in.
    again = _login(client, oauth_server, "alice")
    assert again["created"] is False and again["username"] == "alice"
    events = client.get("/api/v1/audit", params={"actor": "alice", "action": "user.login"}, headers=admin)
    assert [e["via"] for e in events.json()["items"]] == ["sso", "sso"]
    assert oauth_server.sso_client_secret not in events.text


def test_groups_follow_the_claim_at_each_login(
    sso_app: Callable[..., TestClient], oauth_server: OAuthServer
) -> None:
    client = sso_app()
    admin = _admin(client)
    _login(client, oauth_server, "alice")  # makes the 'sales' group
    carol = _login(client, oauth_server, "carol")
    assert carol["groups"] == ["eng"]
    assert client.put("/api/v1/groups/sales/members/carol", headers=admin).status_code == 200
    _login(client, oauth_server, "carol")  # her claim does not list sales: she leaves it
    groups = {g["name"]: g["members"] for g in client.get("/api/v1/groups", headers=admin).json()["items"]}
    assert groups == {"eng": ["carol"], "sales": ["alice"]}


def test_bad_callbacks_are_refused_clearly(
    sso_app: Callable[..., TestClient], oauth_server: OAuthServer
) -> None:
    client = sso_app()
    started = client.get("/sso/login", follow_redirects=False)
    code, state = oauth_server.authorize(started.headers["location"], user="dave")
    tampered = client.get("/sso/callback", params={"code": code, "state": state[:-2] + "xx"})
    assert tampered.status_code == 401 and "/sso/login" in tampered.json()["detail"]
    denied = client.get("/sso/callback", params={"error": "access_denied"})
    assert denied.status_code == 401 and "access_denied" in denied.json()["detail"]
    other = TestClient(client.app)  # another browser: no cookie binding it to this login
    stolen = other.get("/sso/callback", params={"code": code, "state": state})
    assert stolen.status_code == 401 and "cookie" in stolen.json()["detail"]


def test_local_passwords_can_be_turned_off(
    sso_app: Callable[..., TestClient], oauth_server: OAuthServer
) -> None:
    client = sso_app(local_passwords=False)
    refused = client.post("/api/v1/tokens", json={"name": "t"}, auth=("admin", ADMIN_PASSWORD))
    assert refused.status_code == 401 and "/sso/login" in refused.json()["detail"]
    # Nor does the OAuth consent page take a password.
    assert client.get("/consent/any", auth=("admin", ADMIN_PASSWORD)).status_code == 401
    assert _login(client, oauth_server, "alice")["username"] == "alice"
