"""Every operation documents its problem+json answers; the error codes are a generated, stable list."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import Api
from tests.api.error_catalog import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def test_errors_page_is_the_catalogue() -> None:
    """``docs/errors.md`` lists exactly the codes in the code: regenerate it when one is added."""
    assert DOC.read_text() == render_markdown(), "run: python -m tests.api.error_catalog > docs/errors.md"


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    methods = ("get", "put", "post", "delete", "patch")
    return [(p, m, op) for p, item in document["paths"].items() for m, op in item.items() if m in methods]


def test_every_operation_documents_its_errors_as_problems(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        for status in ("400", "422", "500", "503"):
            content = responses[status]["content"]
            assert content["application/problem+json"]["schema"] == PROBLEM, (path, method)
        with_path_params = any(p["in"] == "path" for p in operation.get("parameters", []))
        assert ("404" in responses) == (with_path_params or path.startswith("/sso/")), (path, method)
        if operation.get("security"):
            assert {"401", "403"} <= set(responses), (path, method)


def test_statuses_are_derived_per_operation(api: Api) -> None:
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    flow = paths["/api/v1/environments/{env}/flows/{flow}"]
    assert "412" in flow["patch"]["responses"] and "412" in flow["delete"]["responses"]
    assert "412" not in flow["get"]["responses"] and "409" not in flow["get"]["responses"]
    assert "413" in paths["/api/v1/environments/{env}/connectors"]["post"]["responses"]
    assert "413" not in paths["/api/v1/environments/{env}/flows"]["post"]["responses"]
    test = paths["/api/v1/environments/{env}/connections/{connection}/test"]["post"]
    assert {"502", "504"} <= set(test["responses"])
    assert "401" not in paths["/api/v1/health"]["get"]["responses"]


def test_a_request_breaking_its_schema_names_each_field(api: Api, admin_headers: dict[str, str]) -> None:
    answer = api.client.post(
        "/api/v1/environments/default/flows", json={"name": 7, "definition": "x"}, headers=admin_headers
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "invalid-request" and problem["type"].endswith("/invalid-request")
    pointers = {error["pointer"] for error in problem["errors"]}
    assert {"/body/name", "/body/definition"} <= pointers


def test_every_problem_carries_its_code(api: Api, admin_headers: dict[str, str]) -> None:
    missing = api.client.get("/api/v1/environments/default/flows/nope", headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not-found"
    anonymous = api.client.get("/api/v1/environments")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"


def test_a_wrong_method_says_which_are_allowed(api: Api, admin_headers: dict[str, str]) -> None:
    answer = api.client.put("/api/v1/environments", headers=admin_headers)
    assert answer.status_code == 405
    assert answer.json()["code"] == "method-not-allowed"
    assert "GET" in answer.headers["allow"]


def test_creates_and_run_starts_take_an_idempotency_key_and_the_hot_path_does_not(api: Api) -> None:
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]

    def headers(path: str, method: str = "post") -> set[str]:
        return {p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "header"}

    for create in (
        "/api/v1/environments/{env}/flows",
        "/api/v1/environments/{env}/connectors",
        "/api/v1/environments/{env}/connections",
        "/api/v1/environments/{env}/flows/{flow}/runs",
    ):
        assert "Idempotency-Key" in headers(create), create
    assert "Idempotency-Key" not in headers("/api/v1/flows/{flow_id}/triggers/{trigger}/invoke")
    assert "Idempotency-Key" not in headers("/api/v1/environments/{env}/flows/{flow}/enable")
