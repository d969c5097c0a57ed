"""Compiling OpenAPI 3.0/3.1 into the IR: styles, bodies, servers, security, components."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from tether.definition._compile import compile_api
from tether.definition._ir import NO_DEFAULT


def openapi(paths: dict[str, Any], version: str = "3.0.3", **root: Any) -> dict[str, Any]:
    return {"openapi": version, "info": {"title": "T", "version": "2"}, "paths": paths, **root}


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        pytest.param({"in": "query"}, ("form", True), id="query-default"),
        pytest.param({"in": "cookie"}, ("form", True), id="cookie-default"),
        pytest.param({"in": "path"}, ("simple", False), id="path-default"),
        pytest.param({"in": "header"}, ("simple", False), id="header-default"),
        pytest.param(
            {"in": "query", "style": "form", "explode": False}, ("form", False), id="explicit-explode"
        ),
        pytest.param({"in": "query", "style": "deepObject"}, ("deepObject", False), id="deep-object"),
        pytest.param({"in": "path", "style": "label", "explode": True}, ("label", True), id="label-explode"),
    ],
)
def test_style_and_explode_defaults(param: dict[str, Any], expected: tuple[str, bool]) -> None:
    doc = openapi({"/x/{p}": {"get": {"parameters": [{"name": "p", "schema": {"type": "string"}, **param}]}}})
    p = compile_api(doc).operations[0].parameters[0]
    assert (p.style, p.explode) == expected
    assert p.collection_format is None


def test_components_refs_and_path_level_parameters() -> None:
    doc = openapi(
        {
            "/pets/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "get": {
                    "operationId": "getPet",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20}}
                    ],
                    "responses": {"200": {"$ref": "#/components/responses/Pet"}},
                },
            }
        },
        components={
            "parameters": {
                "Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
            },
            "responses": {
                "Pet": {
                    "description": "a pet",
                    "headers": {"X-Rate": {"schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                }
            },
            "schemas": {
                "Pet": {"type": "object", "properties": {"friend": {"$ref": "#/components/schemas/Pet"}}}
            },
        },
    )
    op = compile_api(doc).operation("getPet")
    assert [(p.name, p.location) for p in op.parameters] == [("id", "path"), ("limit", "query")]
    assert op.parameter("limit").default == 20
    assert op.parameter("id").default is NO_DEFAULT
    response = op.responses["200"]
    assert response.pointer == "/components/responses/Pet"
    assert response.headers == {"X-Rate": {"type": "integer"}}
    pet = response.content["application/json"]
    assert pet["properties"]["friend"] is pet  # recursive schema, shared


def test_request_body_by_media_type() -> None:
    doc = openapi(
        {
            "/upload": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "description": "the file",
                        "content": {
                            "multipart/form-data": {"schema": {"type": "object"}},
                            "application/octet-stream": {},
                        },
                        "x-ms-summary": "File",
                    }
                }
            }
        }
    )
    rb = compile_api(doc).operations[0].request_body
    assert rb is not None and rb.required and rb.description == "the file"
    assert rb.content == {"multipart/form-data": {"type": "object"}, "application/octet-stream": {}}
    assert rb.extensions == {"x-ms-summary": "File"}
    assert rb.pointer == "/paths/~1upload/post/requestBody"


def test_servers_with_variables_and_default() -> None:
    servers = [
        {
            "url": "https://{region}.api.io/v1",
            "variables": {"region": {"default": "eu", "enum": ["eu", "us"]}},
        },
        {"url": 5},
    ]
    api = compile_api(openapi({}, servers=servers))
    assert len(api.servers) == 1
    (server,) = api.servers
    assert server.url == "https://{region}.api.io/v1"
    assert (server.variables["region"].default, server.variables["region"].enum) == ("eu", ["eu", "us"])
    assert [s.url for s in compile_api(openapi({})).servers] == ["/"]


def test_security_schemes() -> None:
    schemes = {
        "bearer": {"type": "http", "scheme": "Bearer", "bearerFormat": "JWT"},
        "key": {"type": "apiKey", "in": "cookie", "name": "sid"},
        "oauth": {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {"tokenUrl": "https://t", "refreshUrl": "https://r", "scopes": {}},
                "authorizationCode": {
                    "authorizationUrl": "https://a",
                    "tokenUrl": "https://t",
                    "scopes": {"x": "X"},
                },
            },
        },
        "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://o/.well-known/openid-configuration"},
    }
    api = compile_api(openapi({}, components={"securitySchemes": schemes}, security=[{"bearer": []}]))
    s = api.security_schemes
    assert (s["bearer"].kind, s["bearer"].scheme, s["bearer"].bearer_format) == ("http", "bearer", "JWT")
    assert (s["key"].location, s["key"].param_name) == ("cookie", "sid")
    assert s["oauth"].flows["clientCredentials"].refresh_url == "https://r"
    assert s["oauth"].flows["authorizationCode"].scopes == {"x": "X"}
    assert s["oidc"].open_id_connect_url.startswith("https://o/")
    assert api.security == [{"bearer": []}]


def test_openapi_31_specifics() -> None:
    doc = openapi(
        {
            "/a": {
                "get": {
                    "parameters": [{"name": "q", "in": "query", "schema": True}],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        version="3.1.0",
        webhooks={"newPet": {"post": {}}},
    )
    api = compile_api(doc)
    assert api.spec_version == "3.1.0"
    assert api.operations[0].parameters[0].schema == {}
    # 3.1 makes `paths` optional.
    assert compile_api({"openapi": "3.1.0", "info": {"title": "w", "version": "1"}}).operations == []


def test_parameter_with_content_instead_of_schema() -> None:
    param = {"name": "filter", "in": "query", "content": {"application/json": {"schema": {"type": "object"}}}}
    p = compile_api(openapi({"/a": {"get": {"parameters": [param]}}})).operations[0].parameters[0]
    assert p.schema == {"type": "object"}


def test_x_ms_extensions_in_openapi3() -> None:
    doc = openapi(
        {
            "/hook": {
                "x-ms-notification-content": {"schema": {"$ref": "#/components/schemas/Event"}},
                "post": {
                    "x-ms-trigger": "batch",
                    "x-ms-trigger-hint": "Create an item",
                    "parameters": [
                        {
                            "name": "cb",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "x-ms-notification-url": True,
                                "x-ms-visibility": "internal",
                            },
                            "x-ms-dynamic-list": {"operationId": "L"},
                        }
                    ],
                },
            }
        },
        components={"schemas": {"Event": {"type": "object"}}},
    )
    op = compile_api(doc).operations[0]
    assert (op.trigger, op.trigger_hint, op.notification_content) == (
        "batch",
        "Create an item",
        {"type": "object"},
    )
    p = op.parameters[0]
    assert p.notification_url and p.visibility == "internal" and p.dynamic_list == {"operationId": "L"}


@pytest.mark.parametrize("version", ["3.0.0", "3.0.3", "3.1.0", "3.1.1", "3.0"])
def test_supported_versions(version: str) -> None:
    assert compile_api(openapi({}, version=version)).spec_version == version


def test_compiled_api_with_recursive_schema_pickles() -> None:
    # Process pools and caches pickle compiled APIs; cycles and the NO_DEFAULT singleton survive.
    doc = openapi(
        {
            "/n": {
                "get": {
                    "parameters": [{"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/N"}}]
                }
            }
        },
        components={
            "schemas": {"N": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/N"}}}}
        },
    )
    copy = pickle.loads(pickle.dumps(compile_api(doc)))
    param = copy.operations[0].parameters[0]
    assert param.schema["properties"]["next"] is param.schema
    assert param.default is NO_DEFAULT
