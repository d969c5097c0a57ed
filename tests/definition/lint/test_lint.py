"""Positions, profiles and robustness of the linter as a whole."""

from __future__ import annotations

from typing import Any

import pytest

from tether.definition import package_from_files, parse_document
from tether.definition.lint import Finding, lint_document, lint_package
from tether.errors import InputError

from ._builders import definition, package, properties

MULTI_LINE = """{
  "swagger": "2.0",
  "info": {"title": "Contoso", "version": "1.0"},
  "paths": {
    "/a/{id}": {
      "get": {
        "operationId": "GetA",
        "parameters": [
          {"name": "id", "in": "path", "required": true, "type": "string"},
          {
            "name": "mode",
            "in": "query",
            "type": "string",
            "x-ms-visibility": "secret"
          }
        ],
        "responses": {"200": {"description": "OK"}}
      }
    }
  }
}
"""


def test_a_finding_has_the_right_pointer_and_line() -> None:
    document = parse_document(MULTI_LINE, name="api.json")
    [finding] = lint_document(document)
    assert finding.rule == "x-ms/invalid-visibility"
    assert finding.pointer == "/paths/~1a~1{id}/get/parameters/1/x-ms-visibility"
    assert finding.line == 14
    assert finding.file == "api.json"
    assert "use one of important, advanced, internal" in finding.message
    assert finding.to_dict() == {
        "rule": "x-ms/invalid-visibility",
        "severity": "error",
        "message": finding.message,
        "file": "api.json",
        "pointer": finding.pointer,
        "line": 14,
    }
    assert str(finding).startswith("api.json:14: error [x-ms/invalid-visibility]")


def test_the_fast_locator_agrees_with_the_document_line_map() -> None:
    from tether.definition.lint._locator import Locator

    document = parse_document(MULTI_LINE, name="api.json")
    locator = Locator(document)
    for pointer in (
        "",
        "/paths",
        "/paths/~1a~1{id}/get/parameters/1",
        "/paths/~1a~1{id}/get/responses/200",
        "/info/title",
        "/paths/~1a~1{id}/get/missing/deeper",
        "/paths/~1a~1{id}/get/parameters/9",
    ):
        assert locator.line(pointer) == document.line_of(pointer), pointer


def test_yaml_documents_get_lines_too() -> None:
    text = "swagger: '2.0'\ninfo:\n  title: T\n  version: '1'\npaths:\n  /a:\n    get:\n      responses: {}\n"
    [finding] = lint_document(parse_document(text, name="api.yaml", format="yaml"))
    assert (finding.rule, finding.line) == ("structure/empty-responses", 8)


def test_profiles_differ() -> None:
    spec = definition()
    spec["paths"]["/tasks/{taskId}"]["get"]["x-ms-visbility"] = "internal"
    spec["info"]["title"] = "Contoso Tasks API"
    custom = lint_package(package(spec, properties()))
    certification = lint_package(package(spec, properties()), profile="certification")
    assert {(f.rule, f.severity) for f in custom} == {("x-ms/unknown-extension", "warning")}
    assert ("x-ms/unknown-extension", "error") in {(f.rule, f.severity) for f in certification}
    assert "certification/title-forbidden-word" in {f.rule for f in certification}


def test_an_unknown_profile_is_a_tether_error() -> None:
    with pytest.raises(InputError, match="unknown lint profile"):
        lint_package(package(), profile="strict")  # type: ignore[arg-type]


ODD_SHAPES: list[Any] = [
    [],
    "text",
    3,
    None,
    {"swagger": 2},
    {"openapi": 3.1},
    {"swagger": "2.0", "paths": []},
    {"swagger": "2.0", "paths": {"/a": []}},
    {"swagger": "2.0", "paths": {"/a": {"get": []}}},
    {
        "swagger": "2.0",
        "paths": {"/a/{b}": {"parameters": "x", "get": {"parameters": [1, None, {"$ref": 3}]}}},
    },
    {
        "swagger": "2.0",
        "paths": {"/a": {"get": {"parameters": [{"$ref": "#/parameters/p"}]}}},
        "parameters": {"p": {"$ref": "#/parameters/p"}},
    },
    {
        "swagger": "2.0",
        "paths": {
            "/a": {
                "get": {
                    "x-ms-dynamic-values": [],
                    "x-ms-capabilities": 1,
                    "x-ms-pageable": "yes",
                    "x-ms-trigger": {"a": 1},
                }
            }
        },
    },
    {
        "swagger": "2.0",
        "definitions": {"A": {"properties": {"x-ms-summary": {"type": "string"}}}},
        "paths": {},
    },
    {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/a/{id}": {
                "get": {
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "OK"}},
                }
            }
        },
    },
    {"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": {}},
]
ODD_PROPERTIES: list[Any] = [
    [],
    {"properties": None},
    {"properties": {"connectionParameters": [], "policyTemplateInstances": [1, {}]}},
    {
        "properties": {
            "connectionParameters": {"a": {"type": "oauthSetting", "oAuthSettings": []}},
            "connectionParameterSets": {"values": [1, {"name": "x", "parameters": []}]},
            "scriptOperations": "all",
            "iconBrandColor": 7,
        }
    },
    {
        "properties": {
            "policyTemplateInstances": [
                {
                    "templateId": "setheader",
                    "parameters": {
                        "x-ms-apimTemplate-operationName": 5,
                        "x-ms-apimTemplate-policySection": [],
                        "x-ms-apimTemplateParameter.value": {"nested": "@connectionParameters('a')"},
                    },
                }
            ]
        }
    },
]


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=[f"definition-{i}" for i in range(len(ODD_SHAPES))])
@pytest.mark.parametrize("profile", ["custom", "certification"])
def test_odd_definitions_never_crash_a_rule(shape: Any, profile: str) -> None:
    import json

    pkg = package_from_files({"apiDefinition.swagger.json": json.dumps(shape).encode()}, source="odd")
    findings = lint_package(pkg, profile=profile)  # type: ignore[arg-type]
    assert all(isinstance(f, Finding) for f in findings)
    assert "internal/rule-crashed" not in {f.rule for f in findings}, [str(f) for f in findings]


@pytest.mark.parametrize("shape", ODD_PROPERTIES, ids=[f"properties-{i}" for i in range(len(ODD_PROPERTIES))])
def test_odd_properties_never_crash_a_rule(shape: Any) -> None:
    findings = lint_package(package(definition(), shape), profile="certification")
    assert "internal/rule-crashed" not in {f.rule for f in findings}, [str(f) for f in findings]


def test_openapi3_semantics_are_checked() -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "paths": {"/a/{id}": {"get": {"operationId": "A", "responses": {"200": {"description": "OK"}}}}},
    }
    rules = {f.rule for f in lint_package(package(spec))}
    assert rules == {"structure/path-parameter-undeclared"}


def test_a_crashing_rule_becomes_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    from tether.definition.lint import _registry

    def broken(ctx: Any) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(_registry, "CHECKS", [*_registry.CHECKS])
    from tether.definition.lint import _runner

    monkeypatch.setattr(
        _runner, "CHECKS", [*_registry.CHECKS, _registry.Check("broken", broken, ("custom",))]
    )
    findings = lint_package(package())
    [crash] = [f for f in findings if f.rule == "internal/rule-crashed"]
    assert "broken" in crash.message and "KeyError" in crash.message
