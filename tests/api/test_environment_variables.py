"""Issue 13: environment variables, read by flows with appSetting() and parameters().

The Logic Apps Standard sample ``logicapps-testframework-http-action.json`` (../shared/samples/flows,
from Azure/logicapps) calls ``@appsetting('httpuri')``; here it runs unchanged against a real local
server, the URI coming from the environment's variable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests._paths import SAMPLES, need
from tests.api.conftest import Api
from tests.flows.engine._support import Backend
from tether.store import AuditEvent, EnvironmentVariable

BASE = "/api/v1/environments/default"


@pytest.fixture(scope="module")
def echo_server() -> Iterator[Backend]:
    server = Backend()
    yield server
    server.close()


def _put(api: Api, headers: dict[str, str], name: str, value: str, *, secure: bool = False) -> Any:
    body = {"value": value, "secure": secure}
    return api.client.put(f"{BASE}/variables/{name}", json=body, headers=headers)


def _run(api: Api, headers: dict[str, str], flow: str, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        detail = api.client.get(f"{BASE}/flows/{flow}/runs/{run_id}", headers=headers).json()
        if detail["run"]["status"] in ("Succeeded", "Failed", "Cancelled"):
            return detail
        assert time.monotonic() < deadline, detail
        time.sleep(0.02)


def test_set_list_delete(api: Api, admin_headers: dict[str, str]) -> None:
    assert _put(api, admin_headers, "Orders.ApiUrl", "https://orders.example").status_code == 200
    secret = _put(api, admin_headers, "Orders:Key", "s3cr3t-value", secure=True)
    assert secret.status_code == 200 and secret.json()["value"] is None
    listed = api.client.get(f"{BASE}/variables", headers=admin_headers).json()["items"]
    assert [(v["name"], v["value"], v["secure"]) for v in listed] == [
        ("Orders.ApiUrl", "https://orders.example", False),
        ("Orders:Key", None, True),
    ]
    # Replacing ignores case and keeps the first spelling, as appSetting() lookups do.
    assert _put(api, admin_headers, "orders.apiurl", "https://v2.example").json()["name"] == "Orders.ApiUrl"

    with api.db.session() as session:
        rows = {row.name: row for row in session.scalars(select(EnvironmentVariable))}
        assert rows["Orders:Key"].value != "s3cr3t-value" and "s3cr3t" not in rows["Orders:Key"].value
        events = session.scalars(select(AuditEvent)).all()
        assert not any("s3cr3t" in json.dumps(e.detail) for e in events)

    bad = _put(api, admin_headers, "1 bad name", "x")
    assert bad.status_code == 400 and "not a valid variable name" in bad.json()["detail"]
    assert api.client.delete(f"{BASE}/variables/Orders.ApiUrl", headers=admin_headers).status_code == 204
    missing = api.client.delete(f"{BASE}/variables/Orders.ApiUrl", headers=admin_headers)
    assert missing.status_code == 404
    assert api.client.get(f"{BASE}/variables").status_code == 401


def test_standard_sample_reads_appsetting(
    api: Api, admin_headers: dict[str, str], echo_server: Backend
) -> None:
    definition = json.loads(need(SAMPLES / "flows" / "logicapps-testframework-http-action.json").read_text())
    settings = {"network_allow": ["127.0.0.1"]}
    assert api.client.put(f"{BASE}/settings", json=settings, headers=admin_headers).status_code == 200
    created = api.client.post(
        f"{BASE}/flows", json={"name": "sample", "definition": definition}, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    url = api.client.post(f"{BASE}/flows/sample/callback-url", headers=admin_headers).json()["value"]
    path = url.removeprefix(api.settings.public_url)

    unset = api.client.post(path, json={})
    run = _run(api, admin_headers, "sample", unset.headers["x-ms-workflow-run-id"])
    http = next(a for a in run["actions"] if a["name"] == "HTTP")
    assert http["status"] == "Failed" and "httpuri" in json.dumps(http["error"])

    assert _put(api, admin_headers, "httpuri", f"{echo_server.url}/echo").status_code == 200
    answer = api.client.post(path, json={"hello": "world"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["method"] == "GET"


def test_secure_values_and_parameters_fallback(api: Api, admin_headers: dict[str, str]) -> None:
    _put(api, admin_headers, "Greeting", "Hello")
    _put(api, admin_headers, "ApiKey", "k-123", secure=True)
    definition = {
        "parameters": {"Declared": {"type": "String", "defaultValue": "from-definition"}},
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Reply": {
                "type": "Response",
                "inputs": {
                    "body": {
                        "greeting": "@parameters('Greeting')",
                        "declared": "@parameters('Declared')",
                        "keyMatches": "@equals(triggerBody()?['key'], appsetting('ApiKey'))",
                    }
                },
            }
        },
    }
    api.client.post(f"{BASE}/flows", json={"name": "vars", "definition": definition}, headers=admin_headers)
    url = api.client.post(f"{BASE}/flows/vars/callback-url", headers=admin_headers).json()["value"]
    path = url.removeprefix(api.settings.public_url)
    assert api.client.post(path, json={"key": "k-123"}).json() == {
        "greeting": "Hello",
        "declared": "from-definition",  # a declared parameter wins over the environment
        "keyMatches": True,
    }
    assert api.client.post(path, json={"key": "nope"}).json()["keyMatches"] is False
    # A change applies to the next run.
    _put(api, admin_headers, "Greeting", "Bonjour")
    assert api.client.post(path, json={}).json()["greeting"] == "Bonjour"
