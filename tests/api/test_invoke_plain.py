"""The invoke and /apim routes' plain ASGI endpoints, over real HTTP servers.

The hot routes skip FastAPI's per-request work (``api/routes/_plain.py``); these tests pin that
they still answer as the documented routes do (errors included, by handing requests over to
them), and that revocations reach calls answered from the caches behind them: at once in the
process that made the change, and within the caches' stated bound (``DEFAULT_READ_TTL``) in
another process serving the same database (here a second app with its own ``Database``, the
state a second ``tether serve`` process has).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import ADMIN_PASSWORD
from tests.services._invoke_kit import echo_app, echo_package, values_for
from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.services._read_cache import DEFAULT_READ_TTL
from tether.store import Database

ENV = "/api/v1/environments/default"
PROBLEM = "application/problem+json"


@dataclass
class Servers:
    """Two API servers on one database: ``here`` makes the changes, ``there`` only calls."""

    here: httpx.Client
    there: httpx.Client


@pytest.fixture(scope="module")
def echo_host() -> Iterator[str]:
    with serve_in_thread(echo_app()) as url:  # type: ignore[arg-type]
        yield url.removeprefix("http://")


@pytest.fixture
def servers(tmp_path: Path, migrated_url: str) -> Iterator[Servers]:
    settings = load_settings(home=tmp_path / "home", database_url=migrated_url, admin_password=ADMIN_PASSWORD)
    first, second = Database(migrated_url), Database(migrated_url)
    services.bootstrap(first, settings)
    try:
        with (
            serve_in_thread(create_app(settings, first)) as here,
            serve_in_thread(create_app(settings, second)) as there,
            httpx.Client(base_url=here, timeout=30) as here_client,
            httpx.Client(base_url=there, timeout=30) as there_client,
        ):
            yield Servers(here_client, there_client)
    finally:
        first.close()
        second.close()


def _token(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    created = http.post("/api/v1/tokens", json={"name": "plain"}, auth=(username, password))
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['token']}"}


def _set_up(http: httpx.Client, admin: dict[str, str], echo_host: str) -> tuple[str, str, dict[str, str]]:
    """A connector made by the admin and shared with bob (Can use), bob's connection to it, bob's token."""
    assert (
        http.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}, headers=admin).status_code == 200
    )
    user = http.post("/api/v1/users", json={"username": "bob", "password": "bob-password"}, headers=admin)
    assert user.status_code == 201, user.text
    member = http.put(f"{ENV}/members", json={"username": "bob", "role": "maker"}, headers=admin)
    assert member.status_code == 200, member.text
    files = {"package": ("echo.zip", echo_package(echo_host, "header").to_zip(), "application/zip")}
    connector = http.post(f"{ENV}/connectors", files=files, headers=admin).json()
    share = {"grantee": "user:bob", "permission": "use"}
    assert (
        http.put(f"{ENV}/connectors/{connector['id']}/access", json=share, headers=admin).status_code == 200
    )
    bob = _token(http, "bob", "bob-password")
    body = {"connector": connector["id"], "parameters": values_for("header")}
    connection = http.post(f"{ENV}/connections", json=body, headers=bob)
    assert connection.status_code == 201, connection.text
    return connector["id"], connection.json()["id"], bob


def _refused_within(
    http: httpx.Client, url: str, headers: dict[str, str], status: int, bound: float
) -> float:
    """Call ``url`` until it answers ``status``; how long that took (fails past ``bound`` seconds)."""
    started = time.monotonic()
    while True:
        answer = http.post(url, headers=headers)
        waited = time.monotonic() - started
        if answer.status_code == status:
            return waited
        assert answer.status_code == 200, answer.text
        assert waited < bound, f"still answered 200 after {waited:.1f} s"
        time.sleep(0.05)


def test_the_plain_endpoints_answer_as_the_documented_routes(servers: Servers, echo_host: str) -> None:
    http = servers.here
    admin = _token(http, "admin", ADMIN_PASSWORD)
    _connector_id, connection, bob = _set_up(http, admin, echo_host)
    call = f"{ENV}/connections/{connection}/invoke/GetLatest"
    answer = http.post(call, headers=bob, json={})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["status"] == 200 and answer.json()["body"]["saw_key"] is True
    assert answer.headers["x-request-id"]
    # A body that is not a JSON object: the documented route's validation problem.
    not_objects = (("[1, 2]", "application/json"), ("{", "application/json"), ("a=1", "text/plain"))
    for content, content_type in not_objects:
        refused = http.post(call, headers={**bob, "Content-Type": content_type}, content=content)
        assert refused.status_code == 422, (content, refused.text)
        assert refused.headers["content-type"] == PROBLEM and refused.json()["code"] == "invalid-request"
    # No token, or not a bearer one: 401 with the challenge, on both routes.
    for headers in ({}, {"Authorization": "Basic Ym9iOmJvYg=="}, {"Authorization": "Bearer"}):
        refused = http.post(call, headers=headers)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
        assert refused.json()["code"] == "unauthenticated"
        apim = http.get(f"/apim/echo/{connection}/echo/latest", headers=headers)
        assert apim.status_code == 401 and apim.headers["content-type"] == PROBLEM
    # An unknown token is refused by the plain endpoint itself, the same way.
    unknown = http.post(call, headers={"Authorization": "Bearer tth_not-a-real-token"})
    assert unknown.status_code == 401 and unknown.json()["code"] == "unauthenticated"


def test_revocations_apply_at_once_here_and_within_the_cache_bound_in_another_process(
    servers: Servers, echo_host: str
) -> None:
    here, there = servers.here, servers.there
    admin = _token(here, "admin", ADMIN_PASSWORD)
    connector, connection, bob = _set_up(here, admin, echo_host)
    call = f"{ENV}/connections/{connection}/invoke/GetLatest"
    for http in (here, there, here, there):  # the second call on each server is answered from its caches
        answer = http.post(call, headers=bob)
        assert answer.status_code == 200 and answer.json()["body"]["saw_key"] is True, answer.text
    bound = DEFAULT_READ_TTL + 3.0  # the cache's lifetime, plus a busy machine's scheduling
    # A revoked share: refused by the very next call here, and within the bound there.
    assert here.delete(f"{ENV}/connectors/{connector}/access/user:bob", headers=admin).status_code == 200
    refused = here.post(call, headers=bob)
    assert refused.status_code == 403 and refused.json()["code"] == "no-longer-shared", refused.text
    _refused_within(there, call, bob, 403, bound)
    # A revoked token: the same, for a token both servers have just accepted.
    share = {"grantee": "user:bob", "permission": "use"}
    assert here.put(f"{ENV}/connectors/{connector}/access", json=share, headers=admin).status_code == 200
    for http in (here, there):
        deadline = time.monotonic() + bound
        while http.post(call, headers=bob).status_code != 200:
            assert time.monotonic() < deadline, "the share given again was not seen"
            time.sleep(0.05)
    mine = next(t for t in here.get("/api/v1/tokens", headers=bob).json()["items"] if t["name"] == "plain")
    assert here.delete(f"/api/v1/tokens/{mine['id']}", headers=bob).status_code == 204
    assert here.post(call, headers=bob).status_code == 401
    _refused_within(there, call, bob, 401, bound)
