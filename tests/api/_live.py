"""One real server per test module and backend, for tests that need HTTP and concurrency.

Started once per module (not per test: a server and a database cost a second or two each), so
tests sharing it name what they create uniquely and look only at their own resources.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import BACKENDS
from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.store import Database, migrate

PASSWORD = "live-admin-password"


@dataclass
class Live:
    url: str
    token: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)


def unique(prefix: str) -> str:
    """A name no other test of the module uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home = tmp_path_factory.mktemp("live")
    if request.param == "sqlite":
        path = home / "tether.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"live_{uuid.uuid4().hex[:12]}"
        server.execute(f"CREATE DATABASE {name}")
        url = server.url(name)
    database = Database(url)
    migrate(database)
    settings = load_settings(home=home / "home", database_url=url, admin_password=PASSWORD)
    services.bootstrap(database, settings)
    try:
        with serve_in_thread(create_app(settings, database)) as base:
            answer = httpx.post(f"{base}/api/v1/tokens", json={"name": "t"}, auth=("admin", PASSWORD))
            yield Live(base, answer.json()["token"])
    finally:
        database.close()
        if request.param != "sqlite":
            request.getfixturevalue("postgres_server").execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def at_once(live: Live, *sends: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    """Run ``sends`` in parallel threads released together by a barrier, each on its own connection."""
    barrier = threading.Barrier(len(sends))
    answers: list[httpx.Response | BaseException] = [RuntimeError("not run")] * len(sends)

    def run(index: int) -> None:
        with live.client() as http:
            http.get("/api/v1/health")  # connected before the barrier, so all start together
            barrier.wait(timeout=30)
            try:
                answers[index] = sends[index](http)
            except BaseException as exc:  # reported below, beside the other answers
                answers[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(a, httpx.Response) for a in answers), answers
    return answers  # type: ignore[return-value]
