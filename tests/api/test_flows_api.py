"""Flows over HTTP: CRUD, manual runs, run history, resubmit/cancel, and the signed Request trigger."""

from __future__ import annotations

import time
from typing import Any

from tests.api.conftest import Api

ECHO = {
    "triggers": {
        "manual": {
            "type": "Request",
            "kind": "Http",
            "inputs": {
                "schema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
            },
            "operationOptions": "EnableSchemaValidation",
        }
    },
    "actions": {
        "Add": {"type": "Compose", "inputs": "@add(triggerBody()['n'], 1)"},
        "Reply": {
            "type": "Response",
            "runAfter": {"Add": []},
            "inputs": {
                "statusCode": 200,
                "headers": {"X-Run": "@workflow()['run']['name']"},
                "body": {"n": "@outputs('Add')"},
            },
        },
    },
}
NO_REPLY = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {"A": {"type": "Compose", "inputs": "@triggerBody()"}},
}


def _wait(api: Api, headers: dict[str, str], flow: str, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        detail = api.client.get(
            f"/api/v1/environments/default/flows/{flow}/runs/{run_id}", headers=headers
        ).json()
        if detail["run"]["status"] in ("Succeeded", "Failed", "Cancelled") or time.monotonic() > deadline:
            return detail
        time.sleep(0.02)


def test_flow_crud(api: Api, admin_headers: dict[str, str]) -> None:
    base = "/api/v1/environments/default/flows"
    created = api.client.post(base, json={"name": "echo", "definition": ECHO}, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["definition"]["actions"]["Add"]["type"] == "Compose"
    listed = api.client.get(base, headers=admin_headers).json()["items"]
    assert [f["name"] for f in listed] == ["echo"] and "definition" not in listed[0]
    patched = api.client.patch(f"{base}/echo", json={"display_name": "Echo"}, headers=admin_headers).json()
    assert (patched["display_name"], patched["version"]) == ("Echo", 2)
    assert api.client.post(f"{base}/echo/disable", headers=admin_headers).json()["enabled"] is False
    assert api.client.post(f"{base}/echo/enable", headers=admin_headers).json()["enabled"] is True
    bad = api.client.post(
        base,
        json={"name": "bad", "definition": {"triggers": {}, "actions": {"A": {"type": "X"}}}},
        headers=admin_headers,
    )
    assert bad.status_code == 422 and bad.json()["issues"][0]["code"] == "flow/unsupported-action"
    assert api.client.get(base).status_code == 401
    assert api.client.delete(f"{base}/echo", headers=admin_headers).status_code == 204
    assert api.client.get(f"{base}/echo", headers=admin_headers).status_code == 404


def test_request_trigger_answers_synchronously(api: Api, admin_headers: dict[str, str]) -> None:
    api.client.post(
        "/api/v1/environments/default/flows", json={"name": "echo", "definition": ECHO}, headers=admin_headers
    )
    url = api.client.post(
        "/api/v1/environments/default/flows/echo/callback-url", headers=admin_headers
    ).json()["value"]
    path = url.removeprefix(api.settings.public_url)
    answer = api.client.post(path, json={"n": 41})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"n": 42}
    run_id = answer.headers["x-ms-workflow-run-id"]
    assert answer.headers["x-run"] == run_id
    assert api.client.post(path, json={"n": "x"}).status_code == 400  # Logic Apps' answer, not 422
    assert api.client.post(path.split("?")[0], json={"n": 1}).status_code == 401
    assert api.client.post(path.replace("sig=", "sig=A"), json={"n": 1}).status_code == 401
    detail = _wait(api, admin_headers, "echo", run_id)
    assert detail["run"]["status"] == "Succeeded"
    assert [a["name"] for a in detail["actions"]] == ["Add", "Reply"]


def test_request_trigger_without_response_is_accepted(api: Api, admin_headers: dict[str, str]) -> None:
    api.client.post(
        "/api/v1/environments/default/flows",
        json={"name": "quiet", "definition": NO_REPLY},
        headers=admin_headers,
    )
    url = api.client.post(
        "/api/v1/environments/default/flows/quiet/callback-url", headers=admin_headers
    ).json()["value"]
    answer = api.client.post(url.removeprefix(api.settings.public_url), content=b"plain text")
    assert answer.status_code == 202
    detail = _wait(api, admin_headers, "quiet", answer.json()["runId"])
    assert detail["actions"][0]["outputs"] == "plain text"


def test_manual_runs_history_resubmit_and_cancel(api: Api, admin_headers: dict[str, str]) -> None:
    base = "/api/v1/environments/default/flows/echo"
    api.client.post(
        "/api/v1/environments/default/flows", json={"name": "echo", "definition": ECHO}, headers=admin_headers
    )
    started = api.client.post(f"{base}/runs", json={"body": {"n": 1}}, headers=admin_headers)
    assert started.status_code == 202
    detail = _wait(api, admin_headers, "echo", started.json()["id"])
    assert detail["run"]["response"]["body"] == {"n": 2}
    again = api.client.post(f"{base}/runs/{started.json()['id']}/resubmit", headers=admin_headers).json()
    assert again["resubmitted_from"] == started.json()["id"]
    assert _wait(api, admin_headers, "echo", again["id"])["run"]["status"] == "Succeeded"
    runs = api.client.get(f"{base}/runs", params={"limit": 10}, headers=admin_headers).json()["items"]
    assert len(runs) == 2
    ended = api.client.post(f"{base}/runs/{again['id']}/cancel", headers=admin_headers)
    assert ended.status_code == 409
    assert api.client.post(f"{base}/runs", json={"body": {}}, headers=admin_headers).status_code == 400
