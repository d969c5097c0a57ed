"""The Request trigger's front door (api/_trigger_front.py): same answers as the routes it stands
in for, and the request telemetry still names the call by its route template."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.conftest import Api
from tether.api._telemetry import _route_template
from tether.api._trigger_front import RequestTriggerFront

FLOWS = "/api/v1/environments/default/flows"
ANSWERS = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {
        "Reply": {"type": "Response", "inputs": {"statusCode": 201, "body": {"got": "@triggerBody()"}}},
    },
}


async def _passed_on(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("a Request-trigger call must not reach the router")


def _scope_after_front(path: str) -> dict[str, Any]:
    """What the front leaves in the scope for the telemetry (with no flow host in the app's state it
    answers the problem of flows not running, without passing the call on)."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "headers": [],
        "app": type("App", (), {"state": type("State", (), {})()})(),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(RequestTriggerFront(_passed_on)(scope, receive, send))
    assert sent[0]["status"] == 500 and b"flows are not running" in sent[1]["body"]
    return scope


def test_metrics_name_trigger_calls_by_their_route_template() -> None:
    invoke = _scope_after_front("/api/v1/flows/f1/triggers/manual/invoke")
    assert _route_template(invoke) == "/api/v1/flows/{flow_id}/triggers/{trigger}/invoke"
    paths = _scope_after_front("/api/v1/flows/f1/triggers/manual/paths/invoke/a/b")
    assert _route_template(paths) == "/api/v1/flows/{flow_id}/triggers/{trigger}/paths/invoke/{path:path}"


def test_the_front_answers_as_the_routes_did(api: Api, admin_headers: dict[str, str]) -> None:
    created = api.client.post(FLOWS, json={"name": "front", "definition": ANSWERS}, headers=admin_headers)
    assert created.status_code == 201, created.text
    url = api.client.post(f"{FLOWS}/front/callback-url", headers=admin_headers).json()["value"]
    url = url.removeprefix(api.settings.public_url)
    answer = api.client.post(url + "&x=1&x=2", json={"n": 1}, headers={"X-Request-Id": "front-1"})
    assert answer.status_code == 201 and answer.json() == {"got": {"n": 1}}
    assert answer.headers["x-request-id"] == "front-1" and answer.headers["x-ms-workflow-run-id"]
    refused = api.client.post(url.replace("sig=", "sig=x"), json={"n": 1})
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["requestId"] == refused.headers["x-request-id"]
