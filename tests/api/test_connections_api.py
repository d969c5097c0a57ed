"""Connections through the HTTP API of a live server: every auth type, OAuth consent end to end through
``/consent`` → provider → ``/redirect/{connector_id}`` with a scripted browser, secrets nowhere at rest
or in any answer or log, key rotation while serving, the connection form and environment settings."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text as sql

from tests.oauth_server import fixtures as _oauth_fixtures
from tests.services._connections_kit import (
    api_key_package,
    basic_package,
    bearer_package,
    oauth_package,
    package,
    register_redirect,
)
from tether import services
from tether.api import create_app, free_port, serve_in_thread
from tether.config import Settings, load_settings
from tether.store import Base, Database

oauth_server = _oauth_fixtures.oauth_server
PASSWORD = "api-admin-password"
SECRETS = {
    "header": "hdr-secret-4f1c9a",
    "query": "qry-secret-77ab20",
    "password": "pwd-secret-93de11",
    "bearer": "Bearer brr-secret-5c0e42",
}


@dataclass
class Live:
    url: str
    db: Database
    settings: Settings
    http: httpx.Client
    answers: list[str]

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self.http.request(method, self.url + "/api/v1" + path, **kwargs)
        self.answers.append(response.text)
        return response


@pytest.fixture
def live(tmp_path: Path, migrated_url: str) -> Iterator[Live]:
    port = free_port()
    settings = load_settings(
        home=tmp_path / "home", database_url=migrated_url, admin_password=PASSWORD,
        public_url=f"http://127.0.0.1:{port}",
    )  # fmt: skip
    database = Database(migrated_url)
    services.bootstrap(database, settings)
    with serve_in_thread(create_app(settings, database), port=port) as url, httpx.Client(timeout=30) as http:
        token = http.post(f"{url}/api/v1/tokens", json={"name": "t"}, auth=("admin", PASSWORD)).json()[
            "token"
        ]
        http.headers["Authorization"] = f"Bearer {token}"
        # The OAuth server and the test APIs listen on 127.0.0.1, which the network policy refuses
        # by default for every outbound call (token requests and connection tests included).
        opened = {"network_allow": ["127.0.0.1"]}
        allowed = http.put(f"{url}/api/v1/environments/default/settings", json=opened)
        assert allowed.status_code == 200, allowed.text
        yield Live(url, database, settings, http, [])
    database.close()


def _upload(live: Live, pkg, name: str) -> dict:
    files = {
        "apiDefinition": ("d.json", pkg.files["apiDefinition.swagger.json"]),
        "apiProperties": ("p.json", pkg.files["apiProperties.json"]),
    }
    answer = live.call("POST", "/environments/default/connectors", files=files, data={"name": name})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _consent_in_browser(live: Live, consent_url: str) -> httpx.Response:
    """A browser: opens Tether's consent page (HTTP Basic), follows the provider and back, with cookies."""
    with httpx.Client(follow_redirects=True, headers={"X-Test-User": "alice"}, timeout=30) as browser:
        return browser.get(consent_url, auth=("admin", PASSWORD))


def test_every_auth_type_keeps_secrets_out_of_storage_answers_and_logs(
    live: Live, oauth_server, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _upload(live, package("Open API"), "open")
    _upload(live, api_key_package("header"), "header")
    _upload(live, api_key_package("query"), "query")
    _upload(live, basic_package(), "basic")
    _upload(live, bearer_package(), "bearer")
    oauth = _upload(live, oauth_package(oauth_server), "oauth")
    redirect_url = f"{live.url}/redirect/{oauth['id']}"
    assert oauth["oauth"] == {
        "redirect_mode": "GlobalPerConnector",
        "redirect_url": redirect_url,
        "steps": [],
    }
    register_redirect(oauth_server, oauth["oauth"]["redirect_url"])
    made = {
        "open": {},
        "header": {"api_key": SECRETS["header"]},
        "query": {"api_key": SECRETS["query"]},
        "basic": {"username": "ada", "password": SECRETS["password"]},
        "bearer": {"api_key": SECRETS["bearer"]},
        "oauth": {},
    }
    ids = {}
    for connector, values in made.items():
        answer = live.call(
            "POST", "/environments/default/connections", json={"connector": connector, "parameters": values}
        )
        assert answer.status_code == 201, answer.text
        ids[connector] = answer.json()["id"]
    consent_url = live.answers[-1] and json.loads(live.answers[-1])["consent_url"]
    assert consent_url.startswith(f"{live.url}/consent/")

    page = _consent_in_browser(live, consent_url)
    assert page.status_code == 200 and "is connected" in page.text, page.text
    shown = live.call("GET", f"/environments/default/connections/{ids['oauth']}").json()
    assert shown["status"] == "connected" and shown["token_expires_at"]

    # An authorized call through the connection (the provider's protected endpoint is the API).
    tested = live.call(
        "POST", f"/environments/default/connections/{ids['oauth']}/test", json={"operation": "Me"}
    )
    assert tested.json()["ok"] is True, tested.text
    tokens = _stored_plaintexts(live)
    secrets = [*SECRETS.values(), *tokens]
    live.call("GET", "/environments/default/connections")
    for connection_id in ids.values():
        live.call("GET", f"/environments/default/connections/{connection_id}")

    # Rotate the key while serving; every connection still decrypts and the OAuth one still calls.
    rotated = live.call("POST", "/admin/rotate-key")
    assert rotated.status_code == 200 and rotated.json()["keys"] == 2
    assert live.call("POST", f"/environments/default/connections/{ids['header']}/test",
                     json={"path": "/"}).status_code == 200  # fmt: skip
    tested = live.call(
        "POST", f"/environments/default/connections/{ids['oauth']}/test", json={"operation": "Me"}
    )
    assert tested.json()["ok"] is True
    secrets += _stored_plaintexts(live)

    dump = _dump_tables(live.db)
    for secret in secrets:
        assert secret not in dump, "a secret is stored in plain text"
        assert all(secret not in answer for answer in live.answers), "a secret is in an API answer"
        assert secret not in caplog.text, "a secret is in the logs"
        assert secret not in page.text
    if backend == "sqlite":
        files = [Path(str(live.db.url.database) + suffix) for suffix in ("", "-wal", "-shm")]
        raw = b"".join(f.read_bytes() for f in files if f.exists())
        assert raw and not any(secret.encode() in raw for secret in secrets)


def _stored_plaintexts(live: Live) -> list[str]:
    """The OAuth tokens in clear, read with the server's own key ring (to search for them)."""
    from tether.secrets import KeyRing
    from tether.store import Connections

    ring = KeyRing.from_settings(live.settings)
    found: list[str] = []
    with live.db.session() as session:
        for connection_id in Connections(session).ids_after("", 100):
            row = Connections(session).get(connection_id)
            if row.tokens:
                data = ring.decrypt_json(row.tokens)
                found += [data["access_token"], data["refresh_token"]]
            if row.secret_values:
                found += [
                    v
                    for v in ring.decrypt_json(row.secret_values).values()
                    if isinstance(v, str) and len(v) > 8
                ]
    return found


def _dump_tables(db: Database) -> str:
    chunks: list[str] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(sql(f"SELECT * FROM {table.name}")):
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


def test_connection_form_settings_and_redirect_switch(live: Live, oauth_server) -> None:
    legacy = _upload(live, oauth_package(oauth_server, mode="Global"), "legacy")
    assert legacy["oauth"]["redirect_mode"] == "Global" and legacy["oauth"]["steps"]
    form = live.call("GET", "/environments/default/connectors/legacy/connection-form").json()
    assert (
        form["redirect_url"] == f"{live.url}/redirect"
        and form["sets"][0]["fields"][0]["kind"] == "oauthSetting"
    )
    assert (
        live.call("GET", "/environments/default/settings").json()["oauth_global_redirect_enforcement"] is None
    )
    answer = live.call(
        "PUT", "/environments/default/settings", json={"oauth_global_redirect_enforcement": "2000-01-01"}
    )
    assert answer.json()["oauth_global_redirect_enforcement"] == "2000-01-01"
    refused = live.call("POST", "/environments/default/connections", json={"connector": "legacy"})
    assert refused.status_code == 409 and refused.json()["type"].endswith("redirect-migration-required")
    switched = live.call("PUT", "/environments/default/connectors/legacy/redirect-mode",
                         json={"redirect_mode": "GlobalPerConnector"}).json()  # fmt: skip
    assert switched["redirect_url"] == f"{live.url}/redirect/{legacy['id']}"
    register_redirect(oauth_server, switched["redirect_url"])
    created = live.call("POST", "/environments/default/connections", json={"connector": "legacy"}).json()
    page = _consent_in_browser(live, created["consent_url"])
    assert page.status_code == 200 and "is connected" in page.text, page.text


def test_consent_page_asks_for_credentials_and_refuses_a_forged_redirect(live: Live, oauth_server) -> None:
    connector = _upload(live, oauth_package(oauth_server), "oauth")
    created = live.call("POST", "/environments/default/connections", json={"connector": "oauth"}).json()
    anonymous = httpx.get(created["consent_url"])
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Basic")
    forged = httpx.get(f"{live.url}/redirect/{connector['id']}", params={"state": "forged", "code": "x"})
    assert forged.status_code == 400 and "invalid" in forged.text
