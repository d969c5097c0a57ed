"""The API in process (Starlette's TestClient over the ASGI app) on a migrated database of
each backend, bootstrapped with a known admin password."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tether import services
from tether.api import create_app
from tether.config import Settings, load_settings
from tether.store import Database

ADMIN_PASSWORD = "correct horse battery staple"


@dataclass
class Api:
    client: TestClient
    db: Database
    settings: Settings

    def token_for(self, username: str, password: str) -> str:
        answer = self.client.post("/api/v1/tokens", json={"name": "test"}, auth=(username, password))
        assert answer.status_code == 201, answer.text
        return answer.json()["token"]

    def as_user(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(tmp_path: Path, migrated_url: str) -> Iterator[Api]:
    settings = load_settings(home=tmp_path / "home", database_url=migrated_url, admin_password=ADMIN_PASSWORD)
    database = Database(migrated_url)
    services.bootstrap(database, settings)
    with TestClient(create_app(settings, database)) as client:
        yield Api(client=client, db=database, settings=settings)
    database.close()


@pytest.fixture
def admin_headers(api: Api) -> dict[str, str]:
    return api.as_user(api.token_for("admin", ADMIN_PASSWORD))
