"""Operations described as one JSON Schema of invoke's arguments: the pure part, small and real documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tether.definition import compile_api, load_package
from tether.services._operation_schemas import MAX_SCHEMA_DEPTH, input_schema, json_schema, output_schema
from tether.services._operations import operation_info

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "powerplatform"


def _swagger(paths: dict[str, Any], **extra: Any) -> Any:
    return compile_api({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": paths, **extra})


def test_the_api_key_parameter_a_connector_declares_is_the_connections() -> None:
    api = compile_api(load_package(CORPUS / "independent-publisher-connectors" / "OMDb API").definition.data)
    schema = input_schema(api, api.operation("GetSearchResults"))
    assert "apikey" not in schema["properties"]
    assert {"s", "i", "y", "type", "page"} <= set(schema["properties"])


def test_a_recursive_schema_is_cut_where_it_repeats() -> None:
    node = {"type": "object", "properties": {"name": {"type": "string"}, "children": {"type": "array"}}}
    node["properties"]["children"]["items"] = {"$ref": "#/definitions/Node"}
    api = _swagger(
        {"/n": {"post": {"operationId": "Put", "parameters": [
            {"name": "node", "in": "body", "schema": {"$ref": "#/definitions/Node"}}],
            "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Node"}}}}}},
        definitions={"Node": node},
    )  # fmt: skip
    operation = api.operation("Put")
    schema = input_schema(api, operation)
    children = schema["properties"]["node"]["properties"]["children"]
    assert children["items"]["description"].startswith("Recursive")
    json.dumps(schema)  # the IR's schema is a cyclic dict; the copy is a tree
    assert output_schema(operation)["properties"]["children"]["items"]["description"].startswith("Recursive")


def test_depth_is_bounded() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(MAX_SCHEMA_DEPTH + 10):
        deep = {"type": "object", "properties": {"x": deep}}
    copied = json_schema(deep)
    for _ in range(MAX_SCHEMA_DEPTH + 1):
        copied = copied["properties"]["x"]
    assert copied["description"].startswith("Not expanded")


def test_internal_properties_titles_files_and_requirements() -> None:
    body = {
        "type": "object",
        "required": ["kind", "text"],
        "properties": {
            "kind": {"type": "string", "x-ms-visibility": "internal", "default": "note"},
            "text": {"type": "string", "x-ms-summary": "Text"},
        },
    }
    api = _swagger({
        "/a/{id}": {"post": {"operationId": "Post", "parameters": [
            {"name": "id", "in": "path", "type": "string", "required": True, "x-ms-summary": "Id"},
            {"name": "mode", "in": "query", "type": "string", "required": True, "default": "fast",
             "enum": ["fast", "slow"]},
            {"name": "secret", "in": "header", "type": "string", "x-ms-visibility": "internal",
             "default": "x"},
            {"name": "payload", "in": "body", "required": True, "x-ms-summary": "Payload", "schema": body}],
            "responses": {"default": {"description": "d", "schema": {"type": "string"}}}}},
        "/f": {"post": {"operationId": "Upload", "consumes": ["multipart/form-data"], "parameters": [
            {"name": "file", "in": "formData", "type": "file", "required": True},
            {"name": "note", "in": "formData", "type": "string"}],
            "responses": {"201": {"description": "c"}}}},
    })  # fmt: skip
    info = operation_info(api, api.operation("Post"))
    schema = info.input_schema
    assert list(schema["properties"]) == ["id", "mode", "payload"]  # the internal header is filled, not asked
    # A required parameter with a default is filled by the runtime when left out: not required here.
    assert schema["required"] == ["id", "payload"]
    assert schema["properties"]["id"]["title"] == "Id"
    assert schema["properties"]["mode"] == {"type": "string", "enum": ["fast", "slow"], "default": "fast"}
    payload = schema["properties"]["payload"]
    assert payload["title"] == "Payload" and payload["required"] == ["text"]
    assert list(payload["properties"]) == ["text"] and payload["properties"]["text"]["title"] == "Text"
    assert info.body_argument == "payload" and info.output_schema == {"type": "string"}
    upload = operation_info(api, api.operation("Upload"))
    assert upload.body_argument is None  # form fields are arguments of their own
    assert upload.input_schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert upload.input_schema["required"] == ["file"] and upload.output_schema is None


def test_openapi3_bodies_are_taken_under_body() -> None:
    api = compile_api({
        "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/p": {"put": {"operationId": "Put", "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}}},
            "responses": {"201": {"description": "c", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"id": {"type": "string"}}}}}}}}}},
    })  # fmt: skip
    info = operation_info(api, api.operation("Put"))
    assert info.input_schema["required"] == ["body"] and info.body_argument == "body"
    assert info.output_schema == {"type": "object", "properties": {"id": {"type": "string"}}}


def _property(schema: Any, name: str) -> Any:
    """The first property called ``name`` anywhere in ``schema``."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict) and name in props:
            return props[name]
        for value in schema.values():
            found = _property(value, name)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize(
    ("connector", "operation", "name", "expected"),
    [
        pytest.param("HiveCPQ - Product configurator", "AddANewCompany", "fee",
                     {"type": "number", "exclusiveMinimum": 0, "maximum": 1000000000}, id="draft4-true"),
        pytest.param("intelliHR", "ListallBusinessEntities", "limit",
                     {"type": "integer", "minimum": 1, "maximum": 100}, id="draft4-false"),
    ],
)  # fmt: skip
def test_draft4_exclusive_bounds_become_2020_12(
    connector: str, operation: str, name: str, expected: dict[str, Any]
) -> None:
    api = compile_api(load_package(CORPUS / "certified-connectors" / connector).definition.data)
    schema = input_schema(api, api.operation(operation))
    jsonschema.Draft202012Validator.check_schema(schema)
    prop = _property(schema, name)
    bounds = {k: prop[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in prop}
    assert {"type": prop["type"], **bounds} == expected


# Every seventh corpus connector plus the heaviest and most recursive ones: the whole corpus takes 15 s here.
HEAVY = ("Azure Machine Learning", "iManage Work", "Content Manager Power Connect", "Enate", "DocuSign")


def test_corpus_operations_are_described_json_safe() -> None:
    """Schemas of real connectors (cyclic, odd, huge) copy into JSON trees."""
    described = 0
    every = sorted(CORPUS.rglob("apiDefinition.swagger.json"))
    chosen = every[::7] + [d for d in every if d.parent.name in HEAVY]
    for definition in chosen:
        try:
            api = compile_api(load_package(definition.parent).definition.data)
        except Exception:  # the 11 broken corpus files: how they are refused is tested in definition/
            continue
        for operation in api.operations:
            info = operation_info(api, operation)
            json.dumps([info.input_schema, info.output_schema])
            described += 1
    assert described > 2_000
