"""Compiling Swagger 2.0 into the IR: parameters, bodies, servers, security, x-ms-*."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tether.definition._compile import compile_api
from tether.definition._ir import NO_DEFAULT, Api
from tether.definition._refs import UnresolvedReference
from tether.errors import InputError, NotFound


def swagger(paths: dict[str, Any], **root: Any) -> dict[str, Any]:
    return {"swagger": "2.0", "info": {"title": "T", "version": "1.0"}, "paths": paths, **root}


PETS = swagger(
    {
        "/pets/{petId}": {
            "parameters": [
                {"name": "petId", "in": "path", "type": "string"},
                {"name": "verbose", "in": "query", "type": "boolean", "description": "path level"},
            ],
            "x-ms-notification-content": {"schema": {"$ref": "#/definitions/Pet"}},
            "get": {
                "summary": "Get a pet",
                "parameters": [
                    {"name": "verbose", "in": "query", "type": "boolean", "description": "operation level"},
                    {"$ref": "#/parameters/tags"},
                ],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}},
                "x-ms-visibility": "Important",
                "x-ms-trigger": "single",
                "x-ms-pageable": {"nextLinkName": "@odata.nextLink"},
                "x-ms-api-annotation": {"status": "Preview"},
                "x-custom": 1,
            },
            "delete": {"operationId": "DeletePet", "responses": {"204": {"description": "gone"}}},
        }
    },
    host="api.example.com",
    basePath="/v1/",
    schemes=["https", "http"],
    parameters={"tags": {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"}}},
    definitions={"Pet": {"type": "object", "properties": {"id": {"type": "string"}}}},
    **{"x-ms-connector-metadata": [{"propertyName": "Website", "propertyValue": "https://x"}]},
)


@pytest.fixture
def api() -> Api:
    return compile_api(PETS, name="pets.json")


def test_header_fields(api: Api) -> None:
    assert (api.title, api.version, api.spec_version) == ("T", "1.0", "2.0")
    assert [s.url for s in api.servers] == ["https://api.example.com/v1", "http://api.example.com/v1"]
    assert api.extensions["x-ms-connector-metadata"][0]["propertyName"] == "Website"
    assert api.raw is PETS


def test_generated_id_is_readable_and_marked(api: Api) -> None:
    get = api.operations[0]
    assert (get.operation_id, get.generated_id) == ("get_pets_petId", True)
    assert api.operation("DeletePet").generated_id is False
    assert api.operations_by_id["get_pets_petId"] is get


def test_generated_ids_are_stable_and_unique() -> None:
    doc = swagger(
        {
            "/a-b": {"get": {"responses": {}}},
            "/a_b": {"get": {"responses": {}}},
            "/x": {"get": {"operationId": "get_a_b_2", "responses": {}}},
        }
    )
    first = [op.operation_id for op in compile_api(doc).operations]
    second = [op.operation_id for op in compile_api(copy.deepcopy(doc)).operations]
    assert first == second == ["get_a_b", "get_a_b_3", "get_a_b_2"]


def test_unknown_operation_id_is_not_found(api: Api) -> None:
    with pytest.raises(NotFound, match=r"pets\.json: no operation with id 'nope'"):
        api.operation("nope")


def test_path_level_parameters_are_merged_with_operation_overrides(api: Api) -> None:
    get = api.operation("get_pets_petId")
    assert [(p.name, p.location) for p in get.parameters] == [
        ("petId", "path"),
        ("verbose", "query"),
        ("tags", "query"),
    ]
    assert get.parameter("verbose").description == "operation level"
    assert get.parameter("petId").required is True  # path parameters always are
    assert get.parameter("petId").pointer == "/paths/~1pets~1{petId}/parameters/0"
    assert get.parameter("tags").pointer == "/parameters/tags"
    # The delete operation inherits the path-level parameters too.
    assert [p.name for p in api.operation("DeletePet").parameters] == ["petId", "verbose"]


def test_x_ms_extensions_are_reachable(api: Api) -> None:
    get = api.operation("get_pets_petId")
    assert get.pointer == "/paths/~1pets~1{petId}/get"
    assert get.visibility == "important"
    assert get.trigger == "single"
    assert get.next_link_name == "@odata.nextLink"
    assert get.annotations == {"status": "Preview"}
    assert get.extensions["x-custom"] == 1 and "x-ms-trigger" in get.extensions
    assert get.notification_content == {"type": "object", "properties": {"id": {"type": "string"}}}
    assert get.responses["200"].content == {"application/json": get.notification_content}


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        pytest.param({"in": "query"}, (None, "form", False), id="scalar-query"),
        pytest.param({"in": "query", "type": "array"}, ("csv", "form", False), id="array-default-csv"),
        pytest.param(
            {"in": "query", "type": "array", "collectionFormat": "multi"}, ("multi", "form", True), id="multi"
        ),
        pytest.param(
            {"in": "query", "type": "array", "collectionFormat": "ssv"},
            ("ssv", "spaceDelimited", False),
            id="ssv",
        ),
        pytest.param(
            {"in": "query", "type": "array", "collectionFormat": "pipes"},
            ("pipes", "pipeDelimited", False),
            id="pipes",
        ),
        pytest.param(
            {"in": "query", "type": "array", "collectionFormat": "tsv"}, ("tsv", "form", False), id="tsv"
        ),
        pytest.param({"in": "header", "type": "array"}, ("csv", "simple", False), id="header"),
        pytest.param({"in": "path", "type": "array"}, ("csv", "simple", False), id="path"),
    ],
)
def test_collection_format_and_style(param: dict[str, Any], expected: tuple[Any, ...]) -> None:
    param = {"name": "p", "items": {"type": "string"}, **param}
    param.setdefault("type", "string")
    doc = swagger({"/x/{p}": {"get": {"parameters": [param], "responses": {}}}})
    p = compile_api(doc).operations[0].parameters[0]
    assert (p.collection_format, p.style, p.explode) == expected


def test_inline_schema_default_and_x_ms_fields() -> None:
    param = {
        "name": "q",
        "in": "query",
        "type": "integer",
        "format": "int32",
        "minimum": 1,
        "default": 10,
        "x-ms-summary": "Count",
        "x-ms-visibility": "advanced",
        "x-ms-url-encoding": "double",
        "x-ms-test-value": 3,
        "x-ms-dynamic-values": {"operationId": "List", "value-path": "id"},
    }
    doc = swagger({"/x": {"get": {"parameters": [param, {"name": "n", "in": "query", "type": "string"}]}}})
    q, n = compile_api(doc).operations[0].parameters
    assert q.schema == {"type": "integer", "format": "int32", "minimum": 1, "default": 10}
    assert (q.default, q.summary, q.visibility, q.url_encoding, q.test_value) == (
        10,
        "Count",
        "advanced",
        "double",
        3,
    )
    assert q.dynamic_values == {"operationId": "List", "value-path": "id"}
    assert q.has_default and not n.has_default
    assert n.default is NO_DEFAULT and n.test_value is NO_DEFAULT and n.url_encoding == "single"


def test_body_parameter_becomes_request_body_per_consumes() -> None:
    body = {"name": "item", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Item"}}
    doc = swagger(
        {"/items": {"post": {"consumes": ["application/json", "text/json"], "parameters": [body]}}},
        definitions={
            "Item": {
                "type": "object",
                "properties": {"cb": {"type": "string", "x-ms-notification-url": True}},
            }
        },
    )
    op = compile_api(doc).operations[0]
    rb = op.request_body
    assert rb is not None and rb.required and rb.name == "item"
    assert list(rb.content) == ["application/json", "text/json"]
    assert rb.schema == doc["definitions"]["Item"]
    assert op.parameters[0].location == "body"


@pytest.mark.parametrize(
    ("params", "consumes", "media"),
    [
        pytest.param(
            [{"name": "a", "in": "formData", "type": "string"}],
            None,
            "application/x-www-form-urlencoded",
            id="urlencoded",
        ),
        pytest.param(
            [{"name": "f", "in": "formData", "type": "file"}],
            None,
            "multipart/form-data",
            id="file-means-multipart",
        ),
        pytest.param(
            [{"name": "a", "in": "formData", "type": "string"}],
            ["multipart/form-data"],
            "multipart/form-data",
            id="declared-multipart",
        ),
    ],
)
def test_form_data_becomes_an_object_body(
    params: list[dict[str, Any]], consumes: list[str] | None, media: str
) -> None:
    op_doc: dict[str, Any] = {"parameters": [{**p, "required": True} for p in params]}
    if consumes:
        op_doc["consumes"] = consumes
    op = compile_api(swagger({"/upload": {"post": op_doc}})).operations[0]
    rb = op.request_body
    assert rb is not None and list(rb.content) == [media]
    schema = rb.content[media]
    assert schema["type"] == "object" and schema["required"] == [params[0]["name"]]
    if params[0]["type"] == "file":
        assert schema["properties"]["f"] == {"type": "string", "format": "binary"}


def test_responses_headers_and_produces() -> None:
    doc = swagger(
        {
            "/r": {
                "get": {
                    "produces": ["text/plain"],
                    "responses": {
                        "200": {"schema": {"type": "string"}, "headers": {"X-Rate": {"type": "integer"}}},
                        "default": {"description": "error", "x-ms-summary": "err"},
                        "x-ignored": {},
                    },
                }
            }
        }
    )
    responses = compile_api(doc).operations[0].responses
    assert list(responses) == ["200", "default"]
    ok = responses["200"]
    assert ok.description is None  # tolerated; lint reports it
    assert ok.content == {"text/plain": {"type": "string"}} and ok.headers == {"X-Rate": {"type": "integer"}}
    assert responses["default"].content == {} and responses["default"].extensions == {"x-ms-summary": "err"}


def test_security_definitions_and_requirements() -> None:
    doc = swagger(
        {"/s": {"get": {"security": [], "responses": {}}}, "/t": {"get": {"responses": {}}}},
        securityDefinitions={
            "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
            "basic": {"type": "basic"},
            "oauth": {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": "https://login/authorize",
                "tokenUrl": "https://login/token",
                "scopes": {"read": "Read it"},
            },
        },
        security=[{"oauth": ["read"]}],
    )
    api = compile_api(doc)
    key, basic, oauth = api.security_schemes.values()
    assert (key.kind, key.location, key.param_name) == ("apiKey", "header", "X-Key")
    assert (basic.kind, basic.scheme) == ("basic", "basic")
    flow = oauth.flows["authorizationCode"]
    assert (flow.authorization_url, flow.token_url, flow.scopes) == (
        "https://login/authorize",
        "https://login/token",
        {"read": "Read it"},
    )
    s, t = api.operations
    assert api.operation_security(s) == [] and api.operation_security(t) == [{"oauth": ["read"]}]
    assert t.security is None


@pytest.mark.parametrize(
    ("root", "urls"),
    [
        pytest.param({}, ["/"], id="nothing"),
        pytest.param({"basePath": "/api"}, ["/api"], id="host-from-policy"),
        pytest.param({"host": "h.io"}, ["https://h.io"], id="default-scheme"),
        pytest.param(
            {"host": "h.io", "basePath": "/", "schemes": ["HTTP"]}, ["http://h.io"], id="root-base-path"
        ),
    ],
)
def test_servers(root: dict[str, Any], urls: list[str]) -> None:
    assert [s.url for s in compile_api(swagger({}, **root)).servers] == urls


@pytest.mark.parametrize(
    "paths",
    [
        pytest.param(None, id="no-paths"),
        pytest.param("nonsense", id="paths-not-object"),
        pytest.param(
            {"/a": "x", "/b": {"get": 3, "post": {"parameters": "x", "responses": []}}}, id="bad-items"
        ),
        pytest.param(
            {
                "/a": {
                    "get": {"parameters": [1, None, {"name": 3}, {"in": "query"}], "responses": {"200": "x"}}
                }
            },
            id="bad-params",
        ),
        pytest.param(
            {"/a": {"get": {"tags": "t", "summary": 5, "deprecated": "true", "x-ms-pageable": {}}}},
            id="odd-fields",
        ),
    ],
)
def test_sloppy_shapes_are_skipped_not_fatal(paths: Any) -> None:
    api = compile_api({"swagger": "2.0", "info": "x", "paths": paths})
    for op in api.operations:
        assert op.operation_id


def test_odd_fields_are_normalised() -> None:
    op = compile_api(
        swagger({"/a": {"get": {"tags": "t", "summary": 5, "deprecated": "true", "x-ms-pageable": {}}}})
    ).operations[0]
    assert (op.tags, op.summary, op.deprecated, op.next_link_name) == ([], None, True, "nextLink")


def test_bad_ref_is_a_clear_error() -> None:
    doc = swagger(
        {"/a": {"get": {"responses": {"200": {"description": "", "schema": {"$ref": "#/definitions/Nope"}}}}}}
    )
    with pytest.raises(UnresolvedReference) as info:
        compile_api(doc, name="def.json")
    assert info.value.pointer == "/paths/~1a/get/responses/200/schema"
    assert str(info.value).startswith("def.json: cannot resolve $ref '#/definitions/Nope'")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"info": {}}, "neither a 'swagger", id="missing-version"),
        pytest.param({"swagger": "1.2"}, "unsupported Swagger version '1.2'", id="swagger-1.2"),
        pytest.param({"openapi": "4.0.0"}, "unsupported OpenAPI version '4.0.0'", id="openapi-4"),
        pytest.param({"info": {"_postman_id": "x"}, "item": []}, "Postman collection", id="postman"),
        pytest.param({"wsdl:definitions": {}, "@xmlns:wsdl": "x"}, "WSDL", id="wsdl-like"),
        pytest.param({"properties": {"iconBrandColor": "#fff"}}, "apiProperties.json", id="properties"),
        pytest.param([1, 2], "not a list", id="not-an-object"),
    ],
)
def test_not_a_supported_definition(data: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        compile_api(data, name="x.json")


def test_absurdly_deep_nesting_is_an_input_error() -> None:
    defs = {f"D{i}": {"properties": {"next": {"$ref": f"#/definitions/D{i + 1}"}}} for i in range(5000)}
    doc = swagger(
        {"/a": {"get": {"responses": {"200": {"schema": {"$ref": "#/definitions/D0"}}}}}}, definitions=defs
    )
    with pytest.raises(InputError, match="nested too deeply"):
        compile_api(doc, name="deep.json")


def test_yaml_float_version_is_accepted() -> None:
    assert compile_api({"swagger": 2.0, "info": {"version": 1.5}, "paths": {}}).version == "1.5"
