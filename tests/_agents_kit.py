"""A real ``tether serve`` app with users, connectors, connections and flows, for the SDK and MCP tests.

The server is the app ``tether serve`` runs (:func:`tether.cli.serve.serving_app`, so ``/mcp``
is mounted) on a loopback port, on a SQLite database in a temporary home. The tutorial's
sentiment service runs beside it. Everything is made through the HTTP API, as a user would:

- ``ada`` (maker) owns two connections: ``Sentiment`` (the tutorial connector, pointed at the
  local service) and ``Intranet`` (a connector whose host, 127.0.0.2, the environment's network
  policy does not allow: the SSRF guard refuses every call);
- ``bob`` (maker) owns no connection;
- a flow ``double`` with a Request trigger answers ``{"n": 2n}``; ``slow`` ends (Failed) after 2 s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests._paths import EXAMPLE_CONNECTOR
from tether.api import serve_in_thread
from tether.definition import DEFINITION_FILE, load_package, package_from_files

ADMIN_PASSWORD = "agents-admin-password"
SENTIMENT_KEY = "agents-sentiment-key"
ENV = "/api/v1/environments/default"
DOUBLE_FLOW = {
    "triggers": {
        "manual": {
            "type": "Request",
            "kind": "Http",
            "description": "Doubles a number.",
            "inputs": {
                "schema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
            },
        }
    },
    "actions": {
        "Double": {"type": "Compose", "inputs": "@mul(triggerBody()['n'], 2)"},
        "Reply": {
            "type": "Response",
            "runAfter": {"Double": []},
            "inputs": {"statusCode": 200, "body": {"n": "@outputs('Double')"}},
        },
    },
}
SLOW_FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    # An hour's wait cut at 2 s by the action's timeout: a run that surely lasts about 2 s.
    "actions": {
        "Nap": {
            "type": "Wait",
            "inputs": {"interval": {"count": 1, "unit": "Hour"}},
            "limit": {"timeout": "PT2S"},
        }
    },
}


@dataclass
class Tenant:
    """The live server and what the kit made on it."""

    url: str
    home: Path
    admin_token: str
    ada_token: str
    bob_token: str
    sentiment_connection: str
    intranet_connection: str

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def _sentiment_package(host: str) -> bytes:
    files = dict(load_package(EXAMPLE_CONNECTOR).files)
    definition = json.loads(files[DEFINITION_FILE])
    definition["host"] = host
    files[DEFINITION_FILE] = json.dumps(definition).encode()
    files.pop("settings.json", None)
    return package_from_files(files).to_zip()


def _intranet_package() -> bytes:
    files = dict(load_package(EXAMPLE_CONNECTOR).files)
    definition = json.loads(files[DEFINITION_FILE])
    definition["host"] = "127.0.0.2:9"  # loopback, but not the address the environment allows
    definition["info"]["title"] = "Intranet"
    definition["paths"]["/sentiment"]["post"]["operationId"] = "Lookup"
    definition["paths"]["/sentiment"]["post"]["summary"] = "Look something up on the intranet"
    files[DEFINITION_FILE] = json.dumps(definition).encode()
    files.pop("settings.json", None)
    return package_from_files(files).to_zip()


def _ok(answer: httpx.Response, status: int = 200) -> dict:
    assert answer.status_code == status, answer.text
    return answer.json()


def _token(client: httpx.Client, username: str, password: str) -> str:
    answer = client.post("/api/v1/tokens", json={"name": "agents"}, auth=(username, password))
    return _ok(answer, 201)["token"]


def populate(url: str, home: Path, sentiment_host: str) -> Tenant:
    """Make the users, connectors, connections and flow through the API."""
    with httpx.Client(base_url=url, timeout=60) as client:
        admin = {"Authorization": f"Bearer {_token(client, 'admin', ADMIN_PASSWORD)}"}
        _ok(client.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}, headers=admin))
        for name in ("ada", "bob"):
            _ok(client.post("/api/v1/users", json={"username": name, "password": f"{name}-password-1"},
                            headers=admin), 201)  # fmt: skip
            _ok(client.put(f"{ENV}/members", json={"username": name, "role": "maker"}, headers=admin))
        ada_token = _token(client, "ada", "ada-password-1")
        ada = {"Authorization": f"Bearer {ada_token}"}
        connections = []
        for name, package in (
            ("sentiment", _sentiment_package(sentiment_host)),
            ("intranet", _intranet_package()),
        ):
            files = {"package": (f"{name}.zip", package, "application/zip")}
            connector = _ok(
                client.post(f"{ENV}/connectors", files=files, data={"name": name}, headers=ada), 201
            )
            body = {"connector": connector["id"], "parameters": {"api_key": SENTIMENT_KEY},
                    "display_name": name.capitalize()}  # fmt: skip
            connections.append(_ok(client.post(f"{ENV}/connections", json=body, headers=ada), 201)["id"])
        for name, definition in (("double", DOUBLE_FLOW), ("slow", SLOW_FLOW)):
            _ok(client.post(f"{ENV}/flows", json={"name": name, "definition": definition}, headers=ada), 201)
        return Tenant(
            url=url,
            home=home,
            admin_token=admin["Authorization"].removeprefix("Bearer "),
            ada_token=ada_token,
            bob_token=_token(client, "bob", "bob-password-1"),
            sentiment_connection=connections[0],
            intranet_connection=connections[1],
        )


def live_tenant(home: Path) -> Iterator[Tenant]:
    """Start the sentiment service and the server, populate it, yield; stop both after."""
    from tether import services
    from tether.cli.serve import serving_app
    from tether.config import load_settings
    from tether.examples.sentiment.service import create_service
    from tether.store import Database, migrate

    settings = load_settings(home=home, admin_password=ADMIN_PASSWORD)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    try:
        with (
            serve_in_thread(create_service(SENTIMENT_KEY)) as sentiment,  # type: ignore[arg-type]
            serve_in_thread(serving_app(settings, database)) as url,
        ):
            yield populate(url, home, sentiment.removeprefix("http://"))
    finally:
        database.close()
