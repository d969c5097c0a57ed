"""A real ``tether serve`` with two connections, for the operations listing and OpenAPI tests.

One connection to the tutorial's Sentiment connector (its real service runs beside the API) and
one to Kanbanize, a big corpus connector (52 operations, 13 internal; never called here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.definition import DEFINITION_FILE, load_package, package_from_files
from tether.examples.sentiment.service import create_service
from tether.store import Database, migrate

PASSWORD = "operations-admin-password"
SENTIMENT_KEY = "operations-sentiment-key"
CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "powerplatform"
KANBANIZE = CORPUS / "certified-connectors" / "Kanbanize"
ENV = "/api/v1/environments/default"


@dataclass
class Served:
    client: httpx.Client
    admin: dict[str, str]
    sentiment: str  # connection id
    kanbanize: str  # connection id

    def as_new_user(self, name: str) -> dict[str, str]:
        answer = self.client.post(
            "/api/v1/users", json={"username": name, "password": PASSWORD}, headers=self.admin
        )
        assert answer.status_code == 201, answer.text
        answer = self.client.put(
            f"{ENV}/members", json={"username": name, "role": "maker"}, headers=self.admin
        )
        assert answer.status_code == 200, answer.text
        token = self.client.post("/api/v1/tokens", json={"name": "t"}, auth=(name, PASSWORD)).json()["token"]
        return {"Authorization": f"Bearer {token}"}


def connect(
    client: httpx.Client, headers: dict[str, str], files: dict[str, bytes], values: dict[str, str]
) -> str:
    package = package_from_files(files)
    upload = {"package": ("c.zip", package.to_zip(), "application/zip")}
    connector = client.post(f"{ENV}/connectors", files=upload, headers=headers)
    assert connector.status_code == 201, connector.text
    body = {"connector": connector.json()["id"], "parameters": values}
    connection = client.post(f"{ENV}/connections", json=body, headers=headers)
    assert connection.status_code == 201, connection.text
    return str(connection.json()["id"])


def serve(home: Path) -> Iterator[Served]:
    """The server and its connections (a generator for module fixtures); everything stops after."""
    from tether.cli.demo import EXAMPLE_CONNECTOR

    settings = load_settings(home=home, admin_password=PASSWORD)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    with (
        serve_in_thread(create_service(SENTIMENT_KEY)) as sentiment_url,  # type: ignore[arg-type]
        serve_in_thread(create_app(settings, database)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        token = client.post("/api/v1/tokens", json={"name": "t"}, auth=("admin", PASSWORD)).json()["token"]
        admin = {"Authorization": f"Bearer {token}"}
        allowed = client.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}, headers=admin)
        assert allowed.status_code == 200, allowed.text
        files = dict(load_package(EXAMPLE_CONNECTOR).files)
        definition = json.loads(files[DEFINITION_FILE])
        definition["host"] = sentiment_url.removeprefix("http://")
        files[DEFINITION_FILE] = json.dumps(definition).encode()
        files.pop("settings.json", None)
        sentiment = connect(client, admin, files, {"api_key": SENTIMENT_KEY})
        kanbanize_files = dict(load_package(KANBANIZE).files)
        kanbanize = connect(client, admin, kanbanize_files, {"api_key": "k-123", "subdomain": "acme"})
        yield Served(client=client, admin=admin, sentiment=sentiment, kanbanize=kanbanize)
    database.close()
