"""The Request trigger's signed URL as one of the app's hot routes (api/routes/_plain_trigger.py):
same answers as the documented routes, errors from the app's own handlers, and the request
telemetry still names the call by its route template."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI

from tests.api.conftest import Api
from tether.api._hot_routes import HotRoutes
from tether.api._problems import install_problem_handlers
from tether.api._telemetry import _route_template
from tether.api.routes import flows
from tether.api.routes._plain_trigger import encode_trigger_answer
from tether.runtime import RateLimited

FLOWS = "/api/v1/environments/default/flows"
ANSWERS = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {
        "Reply": {"type": "Response", "inputs": {"statusCode": 201, "body": {"got": "@triggerBody()"}}},
    },
}


async def _passed_on(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("a Request-trigger call must not reach the router")


class _RefusingHost:
    """Stands in for the flow host (no real part refuses a trigger call with a 429 today): what
    a refusal with a Retry-After looks like once the app's own handler has answered it."""

    async def fire_request(self, *args: Any, **kwargs: Any) -> Any:
        raise RateLimited("too many runs of this flow", retry_after=2.4)


def _call_hot_route(path: str, *, host: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One call through the hot routes of a real app with the product's problem handlers (and
    ``host`` as its flow host, if any): the scope it leaves and the messages it sent."""
    app = FastAPI()
    install_problem_handlers(app)
    if host is not None:
        app.state.flow_host = host
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "app": app,
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(HotRoutes(_passed_on, routes=flows.hot_routes("/api/v1"))(scope, receive, send))
    return scope, sent


def _scope_after_hot_route(path: str) -> dict[str, Any]:
    """What the hot route leaves in the scope for the telemetry. The app has no flow host in its
    state, so the call is refused by the app's handler with the problem of flows not running,
    and never passed on."""
    scope, sent = _call_hot_route(path)
    assert sent[0]["status"] == 500 and b"flows are not running" in sent[1]["body"]
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    return scope


def test_a_refusal_gets_the_app_handlers_problem_and_retry_after() -> None:
    _scope, sent = _call_hot_route("/api/v1/flows/f1/triggers/manual/invoke", host=_RefusingHost())
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == 429 and headers[b"retry-after"] == b"2"
    assert headers[b"content-type"] == b"application/problem+json"
    assert b"too many runs of this flow" in sent[1]["body"]


def test_metrics_name_trigger_calls_by_their_route_template() -> None:
    invoke = _scope_after_hot_route("/api/v1/flows/f1/triggers/manual/invoke")
    assert _route_template(invoke) == "/api/v1/flows/{flow_id}/triggers/{trigger}/invoke"
    paths = _scope_after_hot_route("/api/v1/flows/f1/triggers/manual/paths/invoke/a/b")
    assert paths["path_params"] == {"flow_id": "f1", "trigger": "manual", "path": "a/b"}
    assert _route_template(paths) == "/api/v1/flows/{flow_id}/triggers/{trigger}/paths/invoke/{path:path}"


def test_the_hot_route_answers_as_the_routes_did(api: Api, admin_headers: dict[str, str]) -> None:
    created = api.client.post(FLOWS, json={"name": "front", "definition": ANSWERS}, headers=admin_headers)
    assert created.status_code == 201, created.text
    url = api.client.post(f"{FLOWS}/front/callback-url", headers=admin_headers).json()["value"]
    url = url.removeprefix(api.settings.public_url)
    answer = api.client.post(url + "&x=1&x=2", json={"n": 1}, headers={"X-Request-Id": "front-1"})
    assert answer.status_code == 201 and answer.json() == {"got": {"n": 1}}
    assert answer.headers["x-request-id"] == "front-1" and answer.headers["x-ms-workflow-run-id"]
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-length"] == str(len(answer.content))
    refused = api.client.post(url.replace("sig=", "sig=x"), json={"n": 1})
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["requestId"] == refused.headers["x-request-id"]


def test_the_answer_is_encoded_as_the_documented_route_encoded_it() -> None:
    """The Response action's body and headers, as Starlette's Response/JSONResponse rendered them."""
    status, headers, body = encode_trigger_answer({"statusCode": 200, "body": "hé"}, "r1")
    assert (status, body) == (200, "hé".encode())
    assert headers == [
        (b"x-ms-workflow-run-id", b"r1"),
        (b"content-length", b"3"),
        (b"content-type", b"text/plain; charset=utf-8"),
    ]
    status, headers, body = encode_trigger_answer(
        {"statusCode": "204", "headers": {"X-MS-Workflow-Run-Id": "theirs", "A": 1}}, "r2"
    )
    assert (status, body) == (204, b"")
    assert headers == [(b"x-ms-workflow-run-id", b"theirs"), (b"a", b"1"), (b"x-ms-workflow-run-id", b"r2")]
    _, headers, body = encode_trigger_answer(
        {"body": {"ü": [1, None]}, "headers": {"Content-Type": "application/vnd.x+json"}}, "r3"
    )
    assert body == '{"ü":[1,null]}'.encode()
    assert headers[-1] == (b"content-length", str(len(body)).encode())
    assert (b"content-type", b"application/vnd.x+json") in headers and len(headers) == 3
