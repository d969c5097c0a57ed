"""One failing example per rule (table), and a clean package that passes every rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tether.definition import package_from_files
from tether.definition.lint import PROFILES, lint_package

from ._builders import definition, package, properties

Spec = dict[str, Any]
GET = ("paths", "/tasks/{taskId}", "get")


def op(spec: Spec) -> Spec:
    return spec["paths"]["/tasks/{taskId}"]["get"]


def param(spec: Spec, index: int = 0) -> Spec:
    return op(spec)["parameters"][index]


def _set(target: Callable[[Spec], Spec], key: str, value: Any) -> Callable[[Spec, Spec], None]:
    def mutate(spec: Spec, props: Spec) -> None:
        target(spec)[key] = value

    return mutate


def _props(key: str, value: Any) -> Callable[[Spec, Spec], None]:
    def mutate(spec: Spec, props: Spec) -> None:
        props["properties"][key] = value

    return mutate


def _param_set(key: str, value: Any, index: int = 0) -> Callable[[Spec, Spec], None]:
    return _set(lambda s: param(s, index), key, value)


def _add_delete_free_webhook(spec: Spec, props: Spec) -> None:
    spec["paths"]["/hooks"] = {
        "post": {
            "operationId": "OnTask",
            "x-ms-trigger": "single",
            "responses": {"201": {"description": "Created"}},
            "parameters": [
                {
                    "name": "body",
                    "in": "body",
                    "schema": {
                        "type": "object",
                        "properties": {"url": {"type": "string", "x-ms-notification-url": True}},
                    },
                }
            ],
        }
    }


def _duplicate_operation(spec: Spec, props: Spec) -> None:
    spec["paths"]["/other"] = {"get": {"operationId": "GetTask", "responses": {"200": {"description": "OK"}}}}


def _policy(instance: Spec) -> Callable[[Spec, Spec], None]:
    return _props("policyTemplateInstances", [instance])


CASES = [
    pytest.param(
        _set(lambda s: s, "swagger", "1.2"), "structure/unknown-version", "custom", id="unknown-version"
    ),
    pytest.param(
        _set(lambda s: s, "basepath", "/v1"), "structure/invalid-schema", "custom", id="invalid-schema"
    ),
    pytest.param(_set(op, "responses", {}), "structure/empty-responses", "custom", id="empty-responses"),
    pytest.param(
        _duplicate_operation, "structure/duplicate-operation-id", "custom", id="duplicate-operation-id"
    ),
    pytest.param(
        _param_set("name", "id"), "structure/path-parameter-undeclared", "custom", id="path-undeclared"
    ),
    pytest.param(_param_set("in", "path", 1), "structure/path-parameter-unused", "custom", id="path-unused"),
    pytest.param(
        _set(lambda s: s["definitions"], "Other", {"$ref": "#/definitions/Nope"}),
        "structure/unresolved-ref",
        "custom",
        id="unresolved-ref",
    ),
    pytest.param(
        _set(lambda s: s["definitions"], "Other", {"$ref": "other.json#/X"}),
        "structure/external-ref",
        "custom",
        id="external-ref",
    ),
    pytest.param(
        lambda s, p: op(s)["parameters"].append(dict(param(s, 1))),
        "structure/duplicate-parameter",
        "custom",
        id="duplicate-param",
    ),
    pytest.param(
        _param_set("default", "false", 1), "structure/default-type-mismatch", "custom", id="default-type"
    ),
    pytest.param(
        _set(op, "x-ms-visbility", "internal"), "x-ms/unknown-extension", "custom", id="unknown-ext"
    ),
    pytest.param(_param_set("x-ms-visibility", "Advanced", 1), "x-ms/value-case", "custom", id="value-case"),
    pytest.param(
        _param_set("x-ms-visibility", "hidden", 1), "x-ms/invalid-visibility", "custom", id="visibility"
    ),
    pytest.param(_set(op, "x-ms-trigger", "many"), "x-ms/invalid-trigger", "custom", id="trigger"),
    pytest.param(
        _param_set("x-ms-url-encoding", "triple"), "x-ms/invalid-url-encoding", "custom", id="encoding"
    ),
    pytest.param(_param_set("x-ms-summary", 3), "x-ms/invalid-value", "custom", id="invalid-value"),
    pytest.param(
        _param_set("x-ms-dynamic-values", {"value-path": "id"}, 1),
        "x-ms/invalid-dynamic",
        "custom",
        id="dynamic-shape",
    ),
    pytest.param(
        _param_set("x-ms-dynamic-list", {"operationId": "ListNope"}, 1),
        "x-ms/unknown-operation",
        "custom",
        id="dynamic-operation",
    ),
    pytest.param(
        _set(op, "x-ms-pageable", {"nextLinkName": 5}), "x-ms/invalid-pageable", "custom", id="pageable"
    ),
    pytest.param(
        _set(lambda s: s, "x-ms-capabilities", {"testConnection": {}}),
        "x-ms/invalid-capabilities",
        "custom",
        id="capabilities",
    ),
    pytest.param(
        _set(lambda s: s["paths"]["/tasks/{taskId}"], "x-ms-notification-content", {"description": "x"}),
        "x-ms/invalid-notification-content",
        "custom",
        id="notification-content",
    ),
    pytest.param(
        lambda s, p: (
            param(s, 1).update({"required": True, "x-ms-visibility": "internal", "default": None})
            or param(s, 1).pop("default")
        ),
        "x-ms/internal-required-without-default",
        "custom",
        id="internal-required",
    ),
    pytest.param(_add_delete_free_webhook, "x-ms/webhook-without-delete", "custom", id="webhook-delete"),
    pytest.param(
        lambda s, p: p.update({"properties": []}), "properties/invalid-root", "custom", id="props-root"
    ),
    pytest.param(
        lambda s, p: p["properties"].pop("iconBrandColor"),
        "properties/missing-brand-color",
        "custom",
        id="brand-missing",
    ),
    pytest.param(
        _props("iconBrandColor", "blue"), "properties/invalid-brand-color", "custom", id="brand-invalid"
    ),
    pytest.param(
        lambda s, p: p["properties"]["connectionParameters"]["api_key"].update(type="password"),
        "properties/unknown-parameter-type",
        "custom",
        id="param-type",
    ),
    pytest.param(
        lambda s, p: p["properties"]["connectionParameters"].update(x="y"),
        "properties/invalid-connection-parameter",
        "custom",
        id="param-shape",
    ),
    pytest.param(
        lambda s, p: p["properties"]["connectionParameters"]["api_key"]["uiDefinition"]["constraints"].update(
            required="yes"
        ),
        "properties/invalid-constraints",
        "custom",
        id="constraints",
    ),
    pytest.param(
        lambda s, p: p["properties"]["connectionParameters"].update(token={"type": "oauthSetting"}),
        "properties/invalid-oauth-settings",
        "custom",
        id="oauth",
    ),
    pytest.param(
        lambda s, p: p["properties"]["connectionParameters"].update(
            token={
                "type": "oauthSetting",
                "oAuthSettings": {"identityProvider": "oauth2", "redirectMode": "Nowhere"},
            }
        ),
        "properties/invalid-redirect-mode",
        "custom",
        id="redirect-mode",
    ),
    pytest.param(
        _props("connectionParameterSets", {"values": []}),
        "properties/invalid-parameter-sets",
        "custom",
        id="parameter-sets",
    ),
    pytest.param(
        _props("scriptOperations", ["Nope"]),
        "properties/unknown-script-operation",
        "custom",
        id="script-operation",
    ),
    pytest.param(
        _props("policyTemplateInstances", {}), "policies/invalid-instance", "custom", id="policy-shape"
    ),
    pytest.param(
        _policy({"templateId": "teleport", "parameters": {}}),
        "policies/unknown-template",
        "custom",
        id="policy-template",
    ),
    pytest.param(
        _policy({"templateId": "SetHeader", "parameters": {"x-ms-apimTemplateParameter.name": "a"}}),
        "policies/missing-parameter",
        "custom",
        id="policy-parameter",
    ),
    pytest.param(
        _policy(
            {
                "templateId": "dynamichosturl",
                "parameters": {
                    "x-ms-apimTemplateParameter.urlTemplate": "https://x",
                    "x-ms-apimTemplate-operationName": ["Nope"],
                },
            }
        ),
        "policies/unknown-operation",
        "custom",
        id="policy-operation",
    ),
    pytest.param(
        _policy(
            {
                "templateId": "dynamichosturl",
                "parameters": {
                    "x-ms-apimTemplateParameter.urlTemplate": "https://x",
                    "x-ms-apimTemplate-policySection": "Later",
                },
            }
        ),
        "policies/invalid-section",
        "custom",
        id="policy-section",
    ),
    pytest.param(
        _policy(
            {
                "templateId": "dynamichosturl",
                "parameters": {
                    "x-ms-apimTemplateParameter.urlTemplate": "https://@connectionParameters('host')/api"
                },
            }
        ),
        "policies/unknown-connection-parameter",
        "custom",
        id="policy-connection-parameter",
    ),
    pytest.param(
        _set(lambda s: s["info"], "title", "Contoso Tasks For Everyone Everywhere"),
        "certification/title-too-long",
        "certification",
        id="title-long",
    ),
    pytest.param(
        _set(lambda s: s["info"], "title", "Contoso API"),
        "certification/title-forbidden-word",
        "certification",
        id="title-word",
    ),
    pytest.param(
        _set(lambda s: s["info"], "title", "Contoso!"),
        "certification/title-trailing-character",
        "certification",
        id="title-end",
    ),
    pytest.param(
        lambda s, p: s["info"].pop("title"),
        "certification/title-missing",
        "certification",
        id="title-missing",
    ),
    pytest.param(
        _set(lambda s: s["info"], "description", "Tasks."),
        "certification/description-length",
        "certification",
        id="description",
    ),
    pytest.param(
        lambda s, p: op(s).pop("operationId"),
        "certification/operation-id-missing",
        "certification",
        id="operation-id",
    ),
    pytest.param(
        lambda s, p: op(s).pop("summary"),
        "certification/operation-summary-missing",
        "certification",
        id="summary",
    ),
    pytest.param(
        _set(op, "summary", "Get a task."), "certification/summary-style", "certification", id="summary-style"
    ),
    pytest.param(
        lambda s, p: op(s).pop("description"),
        "certification/operation-description-missing",
        "certification",
        id="op-description",
    ),
    pytest.param(
        lambda s, p: param(s).pop("x-ms-summary"),
        "certification/parameter-summary-missing",
        "certification",
        id="param-summary",
    ),
    pytest.param(
        lambda s, p: param(s).pop("description"),
        "certification/parameter-description-missing",
        "certification",
        id="param-description",
    ),
    pytest.param(
        lambda s, p: op(s)["responses"]["200"].pop("schema"),
        "certification/response-schema-missing",
        "certification",
        id="response-schema",
    ),
    pytest.param(
        _props("iconBrandColor", "#007EE5"),
        "certification/brand-color-default",
        "certification",
        id="brand-default",
    ),
    pytest.param(
        _set(lambda s: s["definitions"], "Unused", {"type": "object"}),
        "certification/unused-definition",
        "certification",
        id="unused-definition",
    ),
    pytest.param(
        _set(lambda s: s, "schemes", ["http", "https"]),
        "certification/https-only",
        "certification",
        id="https-only",
    ),
    pytest.param(
        lambda s, p: p["properties"].pop("publisher"),
        "certification/publisher-missing",
        "certification",
        id="publisher",
    ),
]


@pytest.mark.parametrize(("mutate", "rule", "profile"), CASES)
def test_rule_fires_on_its_example(mutate: Callable[[Spec, Spec], Any], rule: str, profile: str) -> None:
    spec, props = definition(), properties()
    mutate(spec, props)
    findings = lint_package(package(spec, props), profile=profile)  # type: ignore[arg-type]
    assert rule in {f.rule for f in findings}, [str(f) for f in findings]
    for finding in findings:
        assert finding.message and finding.file.startswith("pkg/")


@pytest.mark.parametrize("profile", PROFILES)
def test_a_clean_package_has_no_findings(profile: str) -> None:
    findings = lint_package(package(definition(), properties()), profile=profile)  # type: ignore[arg-type]
    assert [str(f) for f in findings] == []


def test_lenient_reading_becomes_findings() -> None:
    text = '\ufeff{"swagger": "2.0", // a comment\n "info": {"title": "T", "version": "1"}, "paths": {},}'
    found = lint_package(package_from_files({"apiDefinition.swagger.json": text.encode()}, source="pkg"))
    rules = {f.rule: f.severity for f in found}
    assert rules["input/lenient-json"] == "warning"
    assert rules["input/byte-order-mark"] == "info"


def test_certification_needs_api_properties() -> None:
    assert "input/missing-properties" in {f.rule for f in lint_package(package(), profile="certification")}
    assert "input/missing-properties" not in {f.rule for f in lint_package(package())}
