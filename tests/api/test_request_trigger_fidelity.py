"""Issue 13, "The Request trigger and Response action", over the real API (in-process ASGI app).

Definitions in tests/flows/data (sources in its README) follow Microsoft's documentation of the
Request trigger and the Response action; each test says which documented behaviour it pins.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.api.conftest import Api

DATA = Path(__file__).parents[1] / "flows" / "data"
BASE = "/api/v1/environments/default/flows"


def _definition(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _create(api: Api, headers: dict[str, str], name: str, definition: dict[str, Any]) -> str:
    created = api.client.post(BASE, json={"name": name, "definition": definition}, headers=headers)
    assert created.status_code == 201, created.text
    url = api.client.post(f"{BASE}/{name}/callback-url", headers=headers).json()["value"]
    return url.removeprefix(api.settings.public_url)


def _run_of(api: Api, headers: dict[str, str], flow: str, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        detail = api.client.get(f"{BASE}/{flow}/runs/{run_id}", headers=headers).json()
        if detail["run"]["status"] in ("Succeeded", "Failed", "Cancelled"):
            return detail
        assert time.monotonic() < deadline, detail
        time.sleep(0.02)


# --- relativePath -----------------------------------------------------------------------------


def test_relative_path_routes_and_fills_parameters(api: Api, admin_headers: dict[str, str]) -> None:
    """logic-apps-http-endpoint.md: relative path 'customer/{customerID}', then GET
    .../paths/invoke/customer/123456 answers 'Hello 123456'."""
    template = _create(api, admin_headers, "hello", _definition("docs-relative-path-customer.json"))
    assert "/triggers/manual/paths/invoke/customer/{customerID}?sig=" in template
    path = template.replace("{customerID}", "123456")
    answer = api.client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.text == "Hello 123456"
    assert api.client.get(template.replace("{customerID}", "a%20b")).text == "Hello a b"  # decoded
    run = _run_of(api, admin_headers, "hello", answer.headers["x-ms-workflow-run-id"])
    assert run["run"]["status"] == "Succeeded"

    wrong = api.client.get(template.replace("customer/{customerID}", "orders/1"))
    assert wrong.status_code == 404 and "paths/invoke/customer/{customerID}" in wrong.json()["detail"]
    too_long = api.client.get(template.replace("{customerID}", "1/2"))
    assert too_long.status_code == 404
    plain = urlsplit(template)
    bare = plain.path.replace("/paths/invoke/customer/{customerID}", "/invoke") + "?" + plain.query
    assert api.client.get(bare).status_code == 404
    # The signature still guards the route.
    assert api.client.get(path.replace("sig=", "sig=x")).status_code == 401


def test_several_path_parameters(api: Api, admin_headers: dict[str, str]) -> None:
    definition = _definition("docs-relative-path-customer.json")
    definition["triggers"]["manual"]["inputs"]["relativePath"] = "/{width}/{height}"
    definition["actions"]["Response"]["inputs"]["body"] = (
        "@mul(int(triggerOutputs()['relativePathParameters']['height']), "
        "int(triggerOutputs()['relativePathParameters']['width']))"
    )
    template = _create(api, admin_headers, "area", definition)
    answer = api.client.get(template.replace("{width}", "6").replace("{height}", "7"))
    assert answer.status_code == 200 and answer.json() == 42


def test_a_path_without_relative_path_is_not_found(api: Api, admin_headers: dict[str, str]) -> None:
    path = _create(
        api,
        admin_headers,
        "plain",
        {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {}},
    )
    extra = path.replace("/invoke?", "/paths/invoke/x?")
    assert api.client.post(extra, json={}).status_code == 404
    assert api.client.post(path, json={}).status_code == 202


# --- the trigger's schema ---------------------------------------------------------------------


def test_schema_is_checked_only_when_validation_is_on(api: Api, admin_headers: dict[str, str]) -> None:
    definition = _definition("docs-response-headers.json")
    definition["actions"]["Response"]["inputs"]["body"] = "@triggerBody()"
    path = _create(api, admin_headers, "loose", definition)
    # Logic Apps uses the schema for the designer's tokens only: the body goes through.
    loose = api.client.post(path, json={"name": 5})
    assert loose.status_code == 200, loose.text
    assert loose.json() == {"name": 5}

    definition["triggers"]["manual"]["operationOptions"] = "EnableSchemaValidation"
    strict = _create(api, admin_headers, "strict", definition)
    refused = api.client.post(strict, json={"name": 5})
    assert refused.status_code == 400, refused.text
    problem = refused.json()
    assert "does not match the trigger's schema" in problem["detail"]
    pointers = {issue["pointer"] for issue in problem["issues"]}
    assert pointers == {"/", "/name"}  # 'title' missing, 'name' not a string: every problem at once
    assert api.client.post(strict, json={"name": "Ada", "title": "Dr"}).status_code == 200


def test_a_schema_that_cannot_compile_is_refused_on_save(api: Api, admin_headers: dict[str, str]) -> None:
    definition = _definition("docs-response-headers.json")
    schemas = {
        "bad-type": {"type": "objekt"},
        "bad-pattern": {"type": "object", "properties": {"id": {"type": "string", "pattern": "(unclosed"}}},
        "dangling-ref": {"type": "object", "properties": {"a": {"$ref": "#/definitions/Missing"}}},
    }
    for name, schema in schemas.items():
        definition["triggers"]["manual"]["inputs"]["schema"] = schema
        answer = api.client.post(BASE, json={"name": name, "definition": definition}, headers=admin_headers)
        assert answer.status_code == 422, (name, answer.text)
        issue = answer.json()["issues"][0]
        assert issue["code"] == "flow/invalid-trigger-schema", (name, issue)
        assert issue["pointer"].startswith("/triggers/manual/inputs/schema"), issue


# --- form bodies ------------------------------------------------------------------------------


def test_form_bodies_reach_the_flow_as_formdata(api: Api, admin_headers: dict[str, str]) -> None:
    definition = {
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Reply": {
                "type": "Response",
                "inputs": {
                    "statusCode": 200,
                    "body": {
                        "name": "@triggerFormDataValue('name')",
                        "tags": "@triggerFormDataMultiValues('tag')",
                        "type": "@triggerBody()?['$content-type']",
                        "formdata": "@triggerBody()?['$formdata']",
                        "raw": "@base64ToString(triggerBody()?['$content'])",
                    },
                },
            }
        },
    }
    path = _create(api, admin_headers, "form", definition)
    answer = api.client.post(
        path,
        content=b"name=Ada+Lovelace&tag=a&tag=b%26c&empty=",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "name": "Ada Lovelace",
        "tags": ["a", "b&c"],
        "type": "application/x-www-form-urlencoded",
        "formdata": [
            {"key": "name", "value": "Ada Lovelace"},
            {"key": "tag", "value": "a"},
            {"key": "tag", "value": "b&c"},
            {"key": "empty", "value": ""},
        ],
        "raw": "name=Ada+Lovelace&tag=a&tag=b%26c&empty=",
    }


# --- the Response action ----------------------------------------------------------------------


def test_response_drops_the_headers_logic_apps_drops(api: Api, admin_headers: dict[str, str]) -> None:
    """connectors-native-reqres.md: Allow, Content-* (but -Disposition, -Encoding, -Type), Cookie,
    Expires, Last-Modified, Set-Cookie and Transfer-Encoding are removed without a warning."""
    path = _create(api, admin_headers, "headers", _definition("docs-response-headers.json"))
    answer = api.client.post(path, json={"name": "Ada", "title": "Dr"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"name": "Ada", "title": "Dr"}
    names = {name.lower() for name in answer.headers}
    assert {"x-kept", "content-disposition", "content-type"} <= names
    assert not names & {"set-cookie", "expires", "allow", "content-language", "last-modified"}


def test_response_refuses_redirects(api: Api, admin_headers: dict[str, str]) -> None:
    """logic-apps-http-endpoint.md: "3xx status codes are not permitted"."""
    definition = _definition("docs-relative-path-customer.json")
    definition["actions"]["Response"]["inputs"]["statusCode"] = 302
    body = {"name": "redirect", "definition": definition}
    refused = api.client.post(BASE, json=body, headers=admin_headers)
    assert refused.status_code == 422
    assert refused.json()["issues"][0]["code"] == "flow/bad-response-status"

    # A status computed at run time fails the Response action instead.
    definition["actions"]["Response"]["inputs"]["statusCode"] = "@add(300, 1)"
    template = _create(api, admin_headers, "computed", definition)
    answer = api.client.get(template.replace("{customerID}", "1"))
    assert answer.status_code != 301 and "location" not in answer.headers
    run = _run_of(api, admin_headers, "computed", answer.headers["x-ms-workflow-run-id"])
    action = next(a for a in run["actions"] if a["name"] == "Response")
    assert action["status"] == "Failed" and "3xx" in json.dumps(action["error"])
