"""Stateless flows over HTTP: answered from memory with no database write on success, failures and a
sample kept, the same definition recorded in full when stateful, and the limits refused at save."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from tests.api.conftest import Api
from tether.store import FlowRun, FlowRuns

FLOWS = "/api/v1/environments/default/flows"
RUN_TABLES = ("flow_runs", "run_actions", "run_segments", "run_blobs")

# Request → Compose → Compose → Response: the shape bench/bench_flows.py measures.
TWO_COMPOSES = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {
        "Double": {"type": "Compose", "inputs": "@mul(triggerBody()['n'], 2)"},
        "Plus": {
            "type": "Compose",
            "runAfter": {"Double": ["Succeeded"]},
            "inputs": "@add(outputs('Double'), 1)",
        },
        "Reply": {
            "type": "Response",
            "runAfter": {"Plus": ["Succeeded"]},
            "inputs": {"statusCode": 200, "body": {"n": "@outputs('Plus')"}},
        },
    },
}


def _create(api: Api, headers: dict[str, str], name: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "definition": TWO_COMPOSES, **extra}
    created = api.client.post(FLOWS, json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()


def _url(api: Api, headers: dict[str, str], name: str) -> str:
    url = api.client.post(f"{FLOWS}/{name}/callback-url", headers=headers).json()["value"]
    return url.removeprefix(api.settings.public_url)


def _settled(api: Api) -> None:
    """Wait until no stateless run is going (a kept run is stored before its task ends)."""
    runtime = api.client.app.state.flow_host  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while runtime.stateless.active:
        assert time.monotonic() < deadline, "stateless runs did not end within 30 s"
        time.sleep(0.01)


def _counts(api: Api) -> tuple[int, int]:
    with api.db.session() as session:
        run_ids = list(session.scalars(select(FlowRun.id)))
        # Action records: run_actions rows (stateless history) and segments' records (stateful runs).
        actions = sum(len(FlowRuns(session).actions(run_id)) for run_id in run_ids)
    return len(run_ids), actions


def test_stateless_answers_without_a_database_write(api: Api, admin_headers: dict[str, str]) -> None:
    flow = _create(api, admin_headers, "fast", kind="stateless")
    assert (flow["kind"], flow["run_history"]) == ("Stateless", "failures")
    path = _url(api, admin_headers, "fast")
    before = api.db.writes(RUN_TABLES)
    for n in range(5):
        answer = api.client.post(path, json={"n": n})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"n": n * 2 + 1}
        assert answer.headers["x-ms-workflow-run-id"]
    _settled(api)
    assert _counts(api) == (0, 0)
    assert api.db.writes(RUN_TABLES) == before
    assert api.client.get(f"{FLOWS}/fast/runs", headers=admin_headers).json()["items"] == []


def test_same_definition_stateful_records_every_action(api: Api, admin_headers: dict[str, str]) -> None:
    assert _create(api, admin_headers, "kept")["kind"] == "Stateful"
    answer = api.client.post(_url(api, admin_headers, "kept"), json={"n": 20})
    assert answer.status_code == 200 and answer.json() == {"n": 41}
    run_id = answer.headers["x-ms-workflow-run-id"]
    deadline = time.monotonic() + 30
    while True:
        detail = api.client.get(f"{FLOWS}/kept/runs/{run_id}", headers=admin_headers).json()
        if detail["run"]["status"] == "Succeeded":
            break
        assert time.monotonic() < deadline, detail
        time.sleep(0.02)
    assert [a["name"] for a in detail["actions"]] == ["Double", "Plus", "Reply"]
    assert _counts(api) == (1, 3)


def test_failed_stateless_run_is_recorded_with_its_error(api: Api, admin_headers: dict[str, str]) -> None:
    _create(api, admin_headers, "fails", kind="Stateless")
    path = _url(api, admin_headers, "fails")
    assert api.client.post(path, json={"n": 1}).status_code == 200
    failed = api.client.post(path, json={"n": "not a number"})
    assert failed.status_code == 202  # no Response ran: the caller is told the run was accepted
    run_id = failed.json()["runId"]
    _settled(api)
    runs = api.client.get(f"{FLOWS}/fails/runs", headers=admin_headers).json()["items"]
    assert [(r["id"], r["status"]) for r in runs] == [(run_id, "Failed")]
    detail = api.client.get(f"{FLOWS}/fails/runs/{run_id}", headers=admin_headers).json()
    actions = {a["name"]: a for a in detail["actions"]}
    assert actions["Double"]["status"] == "Failed"
    assert actions["Double"]["error"]["code"] == "InvalidTemplate"
    assert "mul" in actions["Double"]["error"]["message"]
    assert actions["Reply"]["status"] == "Skipped"
    assert detail["run"]["status"] == "Failed" and detail["run"]["error"]["code"]
    assert "not a number" in json.dumps(detail["trigger"])  # the input that made it fail


def test_sampled_and_full_history(api: Api, admin_headers: dict[str, str]) -> None:
    _create(api, admin_headers, "sampled", kind="Stateless", run_history="sampled:3")
    _create(api, admin_headers, "everything", kind="Stateless", run_history="all")
    sampled, everything = _url(api, admin_headers, "sampled"), _url(api, admin_headers, "everything")
    for n in range(7):
        assert api.client.post(sampled, json={"n": n}).json() == {"n": n * 2 + 1}
    for n in range(2):
        assert api.client.post(everything, json={"n": n}).status_code == 200
    _settled(api)
    kept = api.client.get(f"{FLOWS}/sampled/runs", headers=admin_headers).json()["items"]
    assert [r["status"] for r in kept] == ["Succeeded", "Succeeded"]  # the 3rd and the 6th of 7
    detail = api.client.get(f"{FLOWS}/sampled/runs/{kept[0]['id']}", headers=admin_headers).json()
    assert [a["name"] for a in detail["actions"]] == ["Double", "Plus", "Reply"]
    assert len(api.client.get(f"{FLOWS}/everything/runs", headers=admin_headers).json()["items"]) == 2


def test_kind_from_workflow_json_and_switching_back(api: Api, admin_headers: dict[str, str]) -> None:
    document = {"definition": TWO_COMPOSES, "kind": "Stateless"}
    created = api.client.post(FLOWS, json={"name": "standard", "definition": document}, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "Stateless"
    path = _url(api, admin_headers, "standard")
    assert api.client.post(path, json={"n": 1}).status_code == 200
    _settled(api)
    assert _counts(api) == (0, 0)
    patched = api.client.patch(f"{FLOWS}/standard", json={"kind": "Stateful"}, headers=admin_headers)
    assert patched.status_code == 200 and patched.json()["kind"] == "Stateful"
    answer = api.client.post(path, json={"n": 1})
    assert answer.status_code == 200
    deadline = time.monotonic() + 30
    while _counts(api) != (1, 3):
        assert time.monotonic() < deadline, _counts(api)
        time.sleep(0.02)


def test_stateless_limits_are_refused_at_save(api: Api, admin_headers: dict[str, str]) -> None:
    recurrence = {
        "triggers": {"tick": {"type": "Recurrence", "recurrence": {"frequency": "Minute", "interval": 5}}},
        "actions": {"A": {"type": "Compose", "inputs": 1}},
    }
    answer = api.client.post(
        FLOWS, json={"name": "ticks", "definition": recurrence, "kind": "Stateless"}, headers=admin_headers
    )
    assert answer.status_code == 400, answer.text
    assert "Recurrence trigger" in answer.text and "make the flow Stateful" in answer.text
    long_wait = {
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {"Nap": {"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Hour"}}}},
    }
    answer = api.client.post(
        FLOWS, json={"name": "naps", "definition": long_wait, "kind": "Stateless"}, headers=admin_headers
    )
    assert answer.status_code == 400 and "lasts 3600 s" in answer.text
    for field, value, hint in [
        ("kind", "Durable", "not one of Stateful, Stateless"),
        ("run_history", "sampled:0", "sampled:N"),
    ]:
        extra = {"kind": "Stateless", field: value}
        answer = api.client.post(
            FLOWS, json={"name": "bad", "definition": TWO_COMPOSES, **extra}, headers=admin_headers
        )
        assert answer.status_code == 400 and hint in answer.text, answer.text
    _create(api, admin_headers, "scheduled")
    switched = api.client.patch(
        f"{FLOWS}/scheduled", json={"definition": recurrence, "kind": "Stateless"}, headers=admin_headers
    )
    assert switched.status_code == 400
    assert api.client.get(f"{FLOWS}/scheduled", headers=admin_headers).json()["kind"] == "Stateful"


def test_a_stored_stateless_run_hides_secrets(api: Api, admin_headers: dict[str, str]) -> None:
    secret = "hunter2-stateless-secret"
    definition = {
        "parameters": {"key": {"type": "SecureString", "defaultValue": ""}},
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Use": {"type": "Compose", "inputs": "@parameters('key')"},
            "Reply": {"type": "Response", "runAfter": {"Use": ["Succeeded"]}, "inputs": {"body": "ok"}},
        },
    }
    body = {
        "name": "secretive",
        "definition": definition,
        "parameters": {"key": secret},
        "kind": "Stateless",
        "run_history": "all",
    }
    assert api.client.post(FLOWS, json=body, headers=admin_headers).status_code == 201
    answer = api.client.post(_url(api, admin_headers, "secretive"), json={})
    assert answer.status_code == 200 and answer.text == "ok", answer.text
    _settled(api)
    run_id = answer.headers["x-ms-workflow-run-id"]
    detail = api.client.get(f"{FLOWS}/secretive/runs/{run_id}", headers=admin_headers)
    assert detail.status_code == 200 and [a["name"] for a in detail.json()["actions"]] == ["Use", "Reply"]
    assert secret not in detail.text
    with api.db.session() as session:
        stored = [r.record for r in FlowRuns(session).actions(run_id) if r.path == "Use"]
    assert stored
    assert secret not in json.dumps(stored)
