"""export_powerplatform: OpenAPI 3 → Swagger 2.0 that Power Platform accepts, with a loss report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV2SpecValidator, validate

from tests._paths import SAMPLES
from tether.definition import package_from_files
from tether.definition.lint import lint_package
from tether.errors import InputError
from tether.importers._export import export_powerplatform, lost
from tether.importers._openapi import import_openapi

OPENAPI3 = sorted((SAMPLES / "openapi3").glob("*"))
SWAGGER2 = sorted((SAMPLES / "swagger2").glob("*"))
LOSSLESS_SAMPLES = {"clever-data-api.yaml", "xero-identity.yaml"}


@pytest.mark.parametrize("source", [pytest.param(p, id=p.name) for p in OPENAPI3])
def test_openapi3_samples_export_as_valid_swagger2(source: Path) -> None:
    result = export_powerplatform(import_openapi(source, fix=True).package)
    data = result.package.definition.data
    assert data["swagger"] == "2.0"
    validate(data, cls=OpenAPIV2SpecValidator)
    assert not [f for f in lint_package(result.package) if f.severity == "error"]
    assert bool(lost(result)) == (source.name not in LOSSLESS_SAMPLES)
    assert all(item.where.startswith("/") for item in lost(result))


@pytest.mark.parametrize("source", [pytest.param(p, id=p.name) for p in SWAGGER2])
def test_swagger2_passes_through_unchanged(source: Path) -> None:
    package = import_openapi(source).package
    result = export_powerplatform(package)
    assert result.package.files == package.files
    assert result.report == []


def _package(doc: dict) -> object:
    return package_from_files({"apiDefinition.swagger.json": json.dumps(doc).encode()}, source="t")


def _op(**extra: object) -> dict:
    return {"operationId": "op", "responses": {"200": {"description": "ok"}}, **extra}


def _doc(operation: dict | None = None, **extra: object) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "servers": [{"url": "https://api.example.com/v1"}],
        "paths": {"/things/{id}": {"get": operation or _op(parameters=[_path_id()])}},
        **extra,
    }


def _path_id() -> dict:
    return {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}


def _json_body(*types: str) -> dict:
    return {
        "content": {t: {"schema": {"type": "object", "properties": {"a": {"type": "string"}}}} for t in types}
    }


@pytest.mark.parametrize(
    ("doc", "lossy"),
    [
        pytest.param(_doc(), False, id="plain"),
        pytest.param(
            _doc(_op(parameters=[_path_id()], requestBody=_json_body("application/json"))), False, id="body"
        ),
        pytest.param(
            _doc(components={"schemas": {"N": {"type": "string", "nullable": True}}}), False, id="nullable"
        ),
        pytest.param(
            _doc(
                _op(
                    parameters=[
                        _path_id(),
                        {
                            "name": "q",
                            "in": "query",
                            "schema": {"type": "array", "items": {"type": "string"}},
                            "explode": False,
                        },
                    ]
                )
            ),
            False,
            id="collection-format",
        ),
        pytest.param(
            _doc(_op(parameters=[_path_id()], requestBody=_json_body("application/json", "application/xml"))),
            True,
            id="several-media-types",
        ),
        pytest.param(
            _doc(_op(parameters=[_path_id(), {"name": "c", "in": "cookie", "schema": {"type": "string"}}])),
            True,
            id="cookie",
        ),
        pytest.param(
            _doc(components={"schemas": {"U": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}),
            True,
            id="one-of",
        ),
        pytest.param(_doc(_op(parameters=[_path_id()], callbacks={"cb": {}})), True, id="callbacks"),
        pytest.param(
            {**_doc(), "servers": [{"url": "https://a.example.com"}, {"url": "https://b.example.com"}]},
            True,
            id="several-servers",
        ),
    ],
)
def test_loss_report_is_non_empty_exactly_when_something_is_lost(doc: dict, lossy: bool) -> None:
    result = export_powerplatform(_package(doc))
    data = result.package.definition.data
    validate(data, cls=OpenAPIV2SpecValidator)
    assert bool(lost(result)) == lossy, [str(i) for i in result.report]


def test_conversion_details() -> None:
    doc = _doc(
        _op(
            parameters=[
                _path_id(),
                {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
            ],
            requestBody={
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/F"}}
                },
            },
        ),
        components={
            "schemas": {"F": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}},
            "securitySchemes": {"k": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        },
    )
    data = export_powerplatform(_package(doc)).package.definition.data
    assert (data["host"], data["basePath"], data["schemes"]) == ("api.example.com", "/v1", ["https"])
    operation = data["paths"]["/things/{id}"]["get"]
    assert operation["consumes"] == ["application/x-www-form-urlencoded"]
    assert operation["parameters"][1] == {
        "name": "tags",
        "in": "query",
        "type": "array",
        "items": {"type": "string"},
        "collectionFormat": "multi",
    }
    assert operation["parameters"][2] == {"name": "n", "in": "formData", "required": True, "type": "integer"}
    assert data["definitions"]["F"]["properties"] == {"n": {"type": "integer"}}
    assert data["securityDefinitions"] == {"k": {"type": "apiKey", "name": "X-Key", "in": "header"}}


def test_microsoft_limits_are_warnings() -> None:
    paths = {
        f"/p{i}": {"get": {"operationId": f"op{i}", "responses": {"200": {"description": "x" * 5000}}}}
        for i in range(300)
    }
    doc = {"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": paths}
    result = export_powerplatform(_package(doc))
    messages = [item.message for item in result.report if item.kind == "warning"]
    assert any("256" in m for m in messages) and any("1 MB" in m for m in messages)
    assert not lost(result)


def test_unknown_version_is_refused() -> None:
    with pytest.raises(InputError):
        export_powerplatform(_package({"hello": "world"}))
