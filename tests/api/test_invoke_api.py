"""The invoke endpoint and the /apim pass-through, in process, against real local HTTP services."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api
from tests.services._invoke_kit import KEY, echo_app, echo_package, values_for
from tether.api import create_app, serve_in_thread

ENV = "/api/v1/environments/default"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def echo_host() -> Iterator[str]:
    with serve_in_thread(echo_app()) as url:  # type: ignore[arg-type]
        yield url.removeprefix("http://")


def _connect(api: Api, headers: dict[str, str], package: Any, values: dict[str, str]) -> tuple[str, str]:
    files = {"package": ("echo.zip", package.to_zip(), "application/zip")}
    connector = api.client.post(f"{ENV}/connectors", files=files, headers=headers)
    assert connector.status_code == 201, connector.text
    body = {"connector": connector.json()["id"], "parameters": values}
    connection = api.client.post(f"{ENV}/connections", json=body, headers=headers)
    assert connection.status_code == 201, connection.text
    return connector.json()["name"], connection.json()["id"]


def _allow_loopback(api: Api, headers: dict[str, str]) -> None:
    answer = api.client.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}, headers=headers)
    assert answer.status_code == 200, answer.text


def test_invoke_answers_status_headers_body_without_secrets(
    api: Api, admin_headers: dict[str, str], echo_host: str, caplog: pytest.LogCaptureFixture
) -> None:
    _allow_loopback(api, admin_headers)
    _name, connection = _connect(api, admin_headers, echo_package(echo_host, "query"), values_for("query"))
    with caplog.at_level(logging.DEBUG):
        answer = api.client.post(
            f"{ENV}/connections/{connection}/invoke/GetItem",
            json={"item": "42", "q": "hi"},
            headers=admin_headers,
        )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == 200 and result["warnings"] == []
    assert result["body"]["saw_key"] is True and result["body"]["query"] == {"q": "hi"}
    assert result["headers"]["x-echo"] == "1" and result["content_type"] == "application/json"
    shown = api.client.get(f"{ENV}/connections/{connection}", headers=admin_headers).text
    for text in (answer.text, shown, caplog.text):
        assert KEY not in text


def test_binary_bodies_come_base64_encoded(api: Api, admin_headers: dict[str, str], echo_host: str) -> None:
    _allow_loopback(api, admin_headers)
    _name, connection = _connect(api, admin_headers, echo_package(echo_host, "none"), {})
    result = api.client.post(f"{ENV}/connections/{connection}/invoke/Binary", headers=admin_headers).json()
    assert result["body_encoding"] == "base64" and result["content_type"] == "application/octet-stream"
    assert base64.b64decode(result["body"]) == bytes(range(256))


def test_loopback_needs_the_environment_setting(
    api: Api, admin_headers: dict[str, str], echo_host: str
) -> None:
    _name, connection = _connect(api, admin_headers, echo_package(echo_host, "none"), {})
    url = f"{ENV}/connections/{connection}/invoke/GetLatest"
    refused = api.client.post(url, headers=admin_headers)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["type"].endswith("/destination-refused") and problem["reason"] == "loopback"
    assert '"network_allow": ["127.0.0.1"]' in problem["detail"]
    _allow_loopback(api, admin_headers)
    settings = api.client.get(f"{ENV}/settings", headers=admin_headers).json()
    assert settings == {
        "environment": "default",
        "oauth_global_redirect_enforcement": None,
        "network_allow": ["127.0.0.1"],
        "encrypt_run_data": False,
        "audit_retention_days": None,
        "agent_connectors": None,
    }
    assert api.client.post(url, headers=admin_headers).json()["status"] == 200
    bad = api.client.put(f"{ENV}/settings", json={"network_allow": ["a b"]}, headers=admin_headers)
    assert bad.status_code == 422 and bad.json()["issues"][0]["pointer"] == "/network_allow/0"


def test_rate_limit_answers_429_with_retry_after(
    api: Api, admin_headers: dict[str, str], echo_host: str
) -> None:
    settings = api.settings.model_copy(update={"connection_rate_limit": 2})  # TETHER_CONNECTION_RATE_LIMIT=2
    with TestClient(create_app(settings, api.db)) as client:
        limited_api = Api(client=client, db=api.db, settings=settings)
        _allow_loopback(limited_api, admin_headers)
        _name, connection = _connect(limited_api, admin_headers, echo_package(echo_host, "none"), {})
        url = f"{ENV}/connections/{connection}/invoke/GetLatest"
        assert [client.post(url, headers=admin_headers).status_code for _ in range(2)] == [200, 200]
        limited = client.post(url, headers=admin_headers)
    assert limited.status_code == 429 and limited.headers["content-type"] == PROBLEM
    assert int(limited.headers["retry-after"]) >= 1 and limited.json()["retry_after"] > 0
    # The default app (500 per minute) lets a third call through.
    assert [api.client.post(url, headers=admin_headers).status_code for _ in range(3)] == [200] * 3


def test_bad_arguments_are_listed(api: Api, admin_headers: dict[str, str], echo_host: str) -> None:
    _allow_loopback(api, admin_headers)
    _name, connection = _connect(api, admin_headers, echo_package(echo_host, "none"), {})
    answer = api.client.post(
        f"{ENV}/connections/{connection}/invoke/GetItem", json={"nope": 1}, headers=admin_headers
    )
    assert answer.status_code == 422
    assert {i["name"] for i in answer.json()["issues"]} >= {"nope", "item"}


def test_only_the_owner_may_invoke(api: Api, admin_headers: dict[str, str], echo_host: str) -> None:
    _allow_loopback(api, admin_headers)
    name, connection = _connect(api, admin_headers, echo_package(echo_host, "header"), values_for("header"))
    created = api.client.post(
        "/api/v1/users", json={"username": "bob", "password": "bob-password-1"}, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    member = {"username": "bob", "role": "maker"}
    assert api.client.put(f"{ENV}/members", json=member, headers=admin_headers).status_code == 200
    bob = api.as_user(api.token_for("bob", "bob-password-1"))
    assert api.client.post(f"{ENV}/connections/{connection}/invoke/GetLatest", headers=bob).status_code == 404
    assert api.client.get(f"/apim/{name}/{connection}/echo/latest", headers=bob).status_code == 404


def test_pass_through_returns_the_upstream_answer(
    api: Api, admin_headers: dict[str, str], echo_host: str
) -> None:
    _allow_loopback(api, admin_headers)
    name, connection = _connect(api, admin_headers, echo_package(echo_host, "header"), values_for("header"))
    base = f"/apim/{name}/{connection}"
    got = api.client.get(f"{base}/echo/abc?q=1&q2=two", headers={**admin_headers, "X-Custom": "c"})
    assert got.status_code == 200 and got.headers["x-echo"] == "1"
    body = got.json()
    assert body["path"] == "/api/echo/abc" and body["query"] == {"q": "1", "q2": "two"}
    assert body["saw_key"] is True and KEY not in got.text
    posted = api.client.post(f"{base}/echo/p", content=json.dumps({"a": 1}), headers=admin_headers)
    assert posted.json()["body"] == {"a": 1} and posted.json()["method"] == "POST"
    assert api.client.get(f"{base}/binary", headers=admin_headers).content == bytes(range(256))
    missing = api.client.get(f"{base}/nowhere", headers=admin_headers)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    wrong = api.client.delete(f"{base}/echo/latest", headers=admin_headers)
    assert wrong.status_code == 404 and wrong.json()["allowed"] == ["GET", "POST"]
    assert api.client.get(f"{base}/echo/latest").status_code == 401
    assert api.client.get(f"/apim/other/{connection}/echo/latest", headers=admin_headers).status_code == 404


def test_changes_apply_to_the_very_next_call_despite_the_caches(
    api: Api, admin_headers: dict[str, str], echo_host: str
) -> None:
    """Token and prepared-call caches (services/_read_cache.py): each change below, made through the
    API, must apply to the next request even though the previous identical one was answered from memory."""
    _allow_loopback(api, admin_headers)
    name, connection = _connect(api, admin_headers, echo_package(echo_host, "header"), values_for("header"))
    url = f"{ENV}/connections/{connection}/invoke/GetLatest"
    created = api.client.post("/api/v1/tokens", json={"name": "cached"}, headers=admin_headers).json()
    me = api.as_user(created["token"])
    for _ in range(2):  # the second call is the cached one
        assert api.client.post(url, headers=me).json()["status"] == 200
    # A tightened network policy refuses the next call.
    assert api.client.put(f"{ENV}/settings", json={"network_allow": []}, headers=me).status_code == 200
    assert api.client.post(url, headers=me).status_code == 403
    assert api.client.get(f"/apim/{name}/{connection}/echo/latest", headers=me).status_code == 403
    _allow_loopback(api, admin_headers)
    assert api.client.post(url, headers=me).json()["status"] == 200
    # New connection values are used at once (the echo service reports whether it saw the right key).
    changed = api.client.patch(
        f"{ENV}/connections/{connection}", json={"parameters": {"api_key": "another-key"}}, headers=me
    )
    assert changed.status_code == 200, changed.text
    assert api.client.post(url, headers=me).json()["body"]["saw_key"] is False
    # A revoked token is refused on the next request.
    assert api.client.delete(f"/api/v1/tokens/{created['id']}", headers=admin_headers).status_code == 204
    assert api.client.post(url, headers=me).status_code == 401
    # A deleted connection is gone for the next call.
    assert api.client.delete(f"{ENV}/connections/{connection}", headers=admin_headers).status_code == 204
    assert api.client.post(url, headers=admin_headers).status_code == 404
