"""Postman import on real collections (postman2openapi's fixtures, Twitter API v2): path variables
in every spelling, nested variables, optional parameters, and duplicate requests merged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tether.importers import import_postman

DATA = Path(__file__).parent / "data"
USERS = DATA / "postman2openapi-users.postman_collection.json"
TODO = DATA / "postman2openapi-todo.postman_collection.json"
DUPLICATES = DATA / "postman2openapi-duplicate-query-params.postman_collection.json"


def _import(collection: dict[str, Any] | Path, **options: Any):
    raw = collection.read_bytes() if isinstance(collection, Path) else json.dumps(collection).encode()
    return import_postman(raw, name="collection.json", **options)


def _single_user(raw: str) -> dict[str, Any]:
    """The users collection with its "Get a Single User" URL written as ``raw``."""
    collection = json.loads(USERS.read_text())
    request = collection["item"][0]["item"][1]["request"]
    request["url"] = {"raw": raw, "variable": request["url"]["variable"]}
    collection["item"][0]["item"] = [collection["item"][0]["item"][1]]
    return collection


def _path_parameters(result) -> dict[str, dict[str, Any]]:
    paths = result.package.definition.data["paths"]
    return {
        path: {p["name"]: p for p in op.get("parameters", []) if p["in"] == "path"}
        for path, item in paths.items()
        for op in item.values()
    }


def test_colon_variables_with_url_variable_are_described_path_parameters() -> None:
    parameters = _path_parameters(_import(USERS))["/users/{userId}"]
    assert parameters["userId"]["required"] is True
    assert parameters["userId"]["description"] == "(Required) The ID of the user."


def test_single_brace_segments_are_path_parameters() -> None:
    result = _import(_single_user("{{baseUrl}}/users/{userId}"))
    parameters = _path_parameters(result)["/users/{userId}"]
    assert parameters["userId"]["description"] == "(Required) The ID of the user."
    assert not [i for i in result.report if i.kind == "warning"]


def test_a_path_template_never_keeps_undeclared_parameters() -> None:
    result = _import(_single_user("{{baseUrl}}/users/{1}"))
    assert _path_parameters(result)["/users/{1}"]["1"]["required"] is True
    assert any(i.kind == "warning" and "'1'" in i.message for i in result.report)


def test_nested_variables_are_resolved_or_reported() -> None:
    collection = _single_user("{{baseUrl}}/users/{{user_{{kind}}}}")
    collection["variable"].append({"key": "kind", "value": "id"})
    resolved = _import(collection)
    assert "/users/{user_id}" in _path_parameters(resolved)
    del collection["variable"][-1]
    unresolved = _import(collection)
    assert "/users/{user_kind}" in _path_parameters(unresolved)
    assert any("nested variable {{user_{{kind}}}}" in i.message for i in unresolved.report)


def test_enabled_query_and_header_parameters_are_optional() -> None:
    operation = _import(TODO).package.definition.data["paths"]["/todos"]["get"]
    headers = {p["name"]: p["required"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"if-none-match": False, "cache-control": False}


def test_duplicate_requests_merge_into_one_operation_by_default() -> None:
    routed = _import(DUPLICATES, merge_duplicates=False)
    merged = _import(DUPLICATES)
    routed_paths = routed.package.definition.data["paths"]
    merged_paths = merged.package.definition.data["paths"]
    assert len([p for p in routed_paths if p.startswith("/v2/json-rpc/{site_id}")]) == 6
    assert list(merged_paths) == ["/v2/json-rpc/{site_id}"]
    merges = [i for i in merged.report if "merged into operation" in i.message]
    assert len(merges) == 5
    body = next(p for p in merged_paths["/v2/json-rpc/{site_id}"]["post"]["parameters"] if p["in"] == "body")
    assert "properties" in body["schema"] or "example" in body["schema"]
    assert not merged.package.properties.data["properties"].get("policyTemplateInstances", [])[1:]
    assert not [i for i in routed.report if "merged into operation" in i.message]


def test_merging_keeps_every_real_collection_valid() -> None:
    from openapi_spec_validator import validate

    from tests._paths import SAMPLES
    from tether.definition.lint import lint_package

    collections = [*sorted((SAMPLES / "postman").glob("*.json")), *DATA.glob("*.postman_collection.json")]
    merged = 0
    for path in collections:
        result = _import(path)
        validate(result.package.definition.data)
        assert not [f for f in lint_package(result.package) if f.severity == "error"], path.name
        merged += sum(1 for item in result.report if "merged into operation" in item.message)
    assert merged >= 30
    # A body and form fields cannot share a Swagger 2.0 operation: such a duplicate stays routed.
    codegen = _import(SAMPLES / "postman" / "codegen-basic-graphql-urlencoded.postman_collection.json")
    assert any("cannot share one operation" in item.message for item in codegen.report)


def _request(name: str, url: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "request": {"method": "GET", "url": url, **more}}


def _collection(*items: dict[str, Any]) -> dict[str, Any]:
    schema = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    return {"info": {"name": "Merges", "schema": schema}, "item": list(items)}


def test_duplicates_on_another_server_or_auth_are_not_merged_into_each_other() -> None:
    """A merge must never change where a request goes or which credentials it sends."""
    bearer = {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}"}]}
    result = _import(
        _collection(
            _request("Main", "https://api.example.com/items?page=1"),
            _request("Main filtered", "https://api.example.com/items?q=x"),
            _request("Other", "https://other.example.com/items"),
            _request("Other filtered", "https://other.example.com/items?q=y"),
            _request("Main with auth", "https://api.example.com/items", auth=bearer),
            _request("Main with auth, filtered", "https://api.example.com/items?q=z", auth=bearer),
        )
    )
    paths = result.package.definition.data["paths"]
    operations = {op["operationId"]: (path, op) for path, item in paths.items() for op in item.values()}
    assert {op_id: path for op_id, (path, _) in operations.items()} == {
        "Main": "/items",
        "Other": "/items/Other",
        "MainWithAuth": "/items/MainWithAuth",
    }
    merges = {i.where: i.message for i in result.report if "merged into operation" in i.message}
    assert sorted(merges) == ["Main filtered", "Main with auth, filtered", "Other filtered"]
    assert "'Other'" in merges["Other filtered"] and "'MainWithAuth'" in merges["Main with auth, filtered"]
    routed = {i.where: i.message for i in result.report if "routed to /items by a policy" in i.message}
    assert "another server" in routed["Other"] and "another auth" in routed["Main with auth"]
    query = {p["name"]: p["required"] for p in operations["Main"][1]["parameters"] if p["in"] == "query"}
    assert query == {"page": False, "q": False}
    assert operations["MainWithAuth"][1]["security"] != operations["Main"][1]["security"]
    # The other host's policy names only operations that exist (never a merged request's id).
    policies = result.package.properties.data["properties"]["policyTemplateInstances"]
    hosts = [i["parameters"] for i in policies if i["templateId"] == "dynamichosturl"]
    assert hosts == [
        {
            "x-ms-apimTemplateParameter.urlTemplate": "https://other.example.com",
            "x-ms-apimTemplate-operationName": ["Other"],
        }
    ]


def test_keep_duplicates_keeps_one_action_per_request() -> None:
    collection = _collection(
        _request("Main", "https://api.example.com/items?page=1"),
        _request("Main filtered", "https://api.example.com/items?q=x"),
    )
    result = _import(collection, merge_duplicates=False)
    paths = result.package.definition.data["paths"]
    assert sorted(paths) == ["/items", "/items/MainFiltered"]
    routed = next(i for i in result.report if i.where == "Main filtered")
    assert "routed to /items by a policy (kept apart as asked" in routed.message
