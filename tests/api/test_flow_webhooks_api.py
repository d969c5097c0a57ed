"""Webhook triggers end to end over real HTTP: the API served by uvicorn (its flow runtime ticking
as in production), a local event service, and events POSTed to the signed callback URL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.api.conftest import ADMIN_PASSWORD
from tests.services._triggers_kit import EventsApi, events_package, http_webhook
from tether import services
from tether.api import create_app, free_port, serve_in_thread
from tether.config import load_settings
from tether.store import Database

ENV = "/environments/default"


@dataclass
class Server:
    url: str
    client: httpx.Client  # authenticated as the admin, base URL /api/v1


@pytest.fixture(scope="module")
def events() -> Iterator[tuple[EventsApi, str]]:
    api = EventsApi()
    with serve_in_thread(api.app()) as url:  # type: ignore[arg-type]
        yield api, url


@pytest.fixture
def server(tmp_path: Path, migrated_url: str) -> Iterator[Server]:
    port = free_port()
    settings = load_settings(
        home=tmp_path / "home",
        database_url=migrated_url,
        admin_password=ADMIN_PASSWORD,
        public_url=f"http://127.0.0.1:{port}",
    )
    database = Database(migrated_url)
    services.bootstrap(database, settings)
    with (
        serve_in_thread(create_app(settings, database), port=port) as url,
        httpx.Client(base_url=f"{url}/api/v1", timeout=10) as client,
    ):
        token = client.post("/tokens", json={"name": "t"}, auth=("admin", ADMIN_PASSWORD))
        assert token.status_code == 201, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['token']}"
        answer = client.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]})
        assert answer.status_code == 200, answer.text
        yield Server(url, client)
    database.close()


def _eventually(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """What ``check`` returns once it is truthy (the runtime ticks every second)."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def _flow(name: str, trigger: dict[str, Any], **extra: Any) -> dict[str, Any]:
    definition = {
        "triggers": {"hook": trigger},
        "actions": {"A": {"type": "Compose", "inputs": "@triggerBody()"}},
    }
    return {"name": name, "definition": definition, **extra}


def _finished_run(server: Server, flow: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        runs = server.client.get(f"{ENV}/flows/{flow}/runs").json()["items"]
        done = [r for r in runs if r["status"] in ("Succeeded", "Failed", "Cancelled")]
        return server.client.get(f"{ENV}/flows/{flow}/runs/{done[0]['id']}").json() if done else None

    return _eventually(finished, f"a finished run of {flow}")


def _post_event(callback: str, event: Any) -> httpx.Response:
    """As the event source does: no Tether token, only the signed URL."""
    return httpx.post(callback, json=event, headers={"X-Event": "created"}, timeout=10)


def test_http_webhook_over_http(server: Server, events: tuple[EventsApi, str]) -> None:
    api, events_url = events
    api.plain.clear()
    trigger = http_webhook(events_url, authentication={"type": "Raw", "value": "Token unsub-5e6f"})
    created = server.client.post(f"{ENV}/flows", json=_flow("orders", trigger))
    assert created.status_code == 201, created.text
    subscribe = _eventually(
        lambda: [c for c in api.plain if c["action"] == "subscribe"], "the subscribe call"
    )
    callback = subscribe[0]["body"]["callbackUrl"]
    assert callback.startswith(f"{server.url}/api/v1/flows/{created.json()['id']}/triggers/hook/events?sig=")

    accepted = _post_event(callback, {"order": 7})
    assert accepted.status_code == 202, accepted.text
    detail = _finished_run(server, "orders")
    assert detail["run"]["status"] == "Succeeded" and detail["run"]["id"] == accepted.json()["runId"]
    assert detail["trigger"]["outputs"]["body"] == {"order": 7}
    assert detail["trigger"]["outputs"]["headers"]["x-event"] == "created"
    assert detail["actions"][0]["outputs"] == {"order": 7}
    # The run history holds the event, not the subscription's credentials.
    history = json.dumps(detail) + server.client.get(f"{ENV}/flows/orders/runs").text
    assert "s3cret" not in history and "unsub-5e6f" not in history

    assert server.client.delete(f"{ENV}/flows/orders").status_code == 204
    _eventually(lambda: [c for c in api.plain if c["action"] == "unsubscribe"], "the unsubscribe call")
    assert api.plain_calls() == [("subscribe", "orders"), ("unsubscribe", "orders")]
    # Decrypted with the server's own key ring to be sent.
    assert api.plain[1]["authorization"] == "Token unsub-5e6f"


def test_api_connection_webhook_over_http(server: Server, events: tuple[EventsApi, str]) -> None:
    api, events_url = events
    api.callbacks.clear()
    api.deleted.clear()
    package = events_package(events_url.removeprefix("http://"))
    files = {"package": ("events.zip", package.to_zip(), "application/zip")}
    connector = server.client.post(f"{ENV}/connectors", files=files)
    assert connector.status_code == 201, connector.text
    connection = server.client.post(f"{ENV}/connections", json={"connector": connector.json()["id"]})
    assert connection.status_code == 201, connection.text
    trigger = {
        "type": "ApiConnectionWebhook",
        "inputs": {
            "host": {"connection": {"name": "@parameters('$connections')['events']['connectionId']"}},
            "path": "/hooks",
            "body": {"callbackUrl": "@{listCallbackUrl()}"},
        },
    }
    body = _flow("alerts", trigger, connections={"events": connection.json()["id"]})
    assert server.client.post(f"{ENV}/flows", json=body).status_code == 201
    callback = _eventually(lambda: api.callbacks, "the subscribe call")[0]

    # x-ms-notification-content requires "event": a payload without it starts nothing.
    assert _post_event(callback, {"other": 1}).status_code == 422
    assert _post_event(callback, {"event": "fired"}).status_code == 202
    detail = _finished_run(server, "alerts")
    assert detail["trigger"]["outputs"]["body"] == {"event": "fired"}
    assert detail["actions"][0]["outputs"] == {"event": "fired"}
    assert len(server.client.get(f"{ENV}/flows/alerts/runs").json()["items"]) == 1

    assert server.client.delete(f"{ENV}/flows/alerts").status_code == 204
    _eventually(lambda: api.deleted, "the DELETE of the subscription")
    assert api.deleted == ["/api/hooks/s1"]  # the Location the subscribe answered


def test_forged_callback_signature_starts_no_run(server: Server, events: tuple[EventsApi, str]) -> None:
    api, events_url = events
    api.plain.clear()
    server.client.post(f"{ENV}/flows", json=_flow("guarded", http_webhook(events_url)))
    callback = _eventually(lambda: api.plain, "the subscribe call")[0]["body"]["callbackUrl"]
    parts = urlsplit(callback)
    sig = parse_qs(parts.query)["sig"][0]
    base = f"{server.url}{parts.path}"
    forged = [
        base,  # no signature
        f"{base}?{urlencode({'sig': sig[:-1] + ('A' if sig[-1] != 'A' else 'B')})}",
        f"{base}?{urlencode({'sig': 'x' * len(sig)})}",
        callback.replace("/triggers/hook/", "/triggers/other/"),  # signed for another trigger
    ]
    for url in forged:
        refused = _post_event(url, {"order": 1})
        assert refused.status_code == 401, (url, refused.text)
    time.sleep(1.5)  # a run wrongly created would show by now
    assert server.client.get(f"{ENV}/flows/guarded/runs").json()["items"] == []
