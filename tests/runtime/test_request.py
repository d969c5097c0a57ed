"""Building requests from the IR: argument checks, serialization styles, bodies, base URLs.
Pure: nothing is sent."""

from __future__ import annotations

import json

import httpx
import pytest

from tether.definition import compile_api
from tether.errors import InputError, ValidationFailed
from tether.runtime import ArgumentError, ConnectionContext, build_request, prepare_arguments
from tether.runtime._request import _in_memory_request
from tether.runtime._schema import SchemaChecker

CHECKER = SchemaChecker()


def swagger(parameters: list[dict], **operation) -> dict:
    return {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "api.test",
        "basePath": "/v1",
        "schemes": ["http", "https"],
        "paths": {"/things/{id}": {"post": {"operationId": "Op", "parameters": parameters,
                                            "responses": {"200": {"description": "ok"}}, **operation}}},
    }  # fmt: skip


def openapi3(parameters: list[dict], request_body: dict | None = None) -> dict:
    operation = {"operationId": "Op", "parameters": parameters, "responses": {"200": {"description": "ok"}}}
    if request_body:
        operation["requestBody"] = request_body
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://{region}.api.test/{version}", "variables": {
            "region": {"default": "eu"}, "version": {"default": "v2"}}}],
        "paths": {"/things/{id}": {"post": operation}},
    }  # fmt: skip


ID = {"name": "id", "in": "path", "required": True, "type": "string"}


def build(doc: dict, arguments: dict, connection: ConnectionContext | None = None):
    api = compile_api(doc, name="t")
    operation = api.operation("Op")
    prepared = prepare_arguments(operation, arguments, CHECKER)
    return build_request(api, operation, prepared, connection or ConnectionContext())


def test_every_bad_argument_is_listed_in_one_error() -> None:
    doc = swagger([
        ID,
        {"name": "limit", "in": "query", "type": "integer", "maximum": 100},
        {"name": "mode", "in": "query", "type": "string", "enum": ["a", "b"], "required": True},
        {"name": "body", "in": "body", "required": True, "schema": {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"},
                           "tags": {"type": "array", "items": {"type": "string"}}}}},
    ])  # fmt: skip
    with pytest.raises(ArgumentError) as caught:
        build(doc, {"id": "1", "limit": 500, "body": {"tags": ["x", 2]}, "colour": "red"})
    error = caught.value
    assert isinstance(error, ValidationFailed) and error.code == "invalid-arguments" and error.status == 422
    found = {(i["pointer"], i["location"]) for i in error.issues}
    assert found == {("/colour", None), ("/limit", "query"), ("/mode", "query"), ("/body", "body"),
                     ("/body/tags/1", "body")}  # fmt: skip
    assert error.message.startswith("cannot call 'Op': 5 invalid arguments")
    assert "'name' is required" in error.message and "expected string, got number 2" in error.message


def test_internal_and_required_defaults_are_filled() -> None:
    doc = swagger([
        ID,
        {"name": "api-version", "in": "query", "type": "string", "default": "2.0",
         "x-ms-visibility": "internal"},
        {"name": "fmt", "in": "query", "type": "string", "default": "json", "required": True},
        {"name": "optional", "in": "query", "type": "string", "default": "not-sent"},
        {"name": "body", "in": "body", "schema": {"type": "object", "properties": {
            "kind": {"type": "string", "default": "task", "x-ms-visibility": "internal"},
            "title": {"type": "string"}}}},
    ])  # fmt: skip
    request = build(doc, {"id": "7", "body": {"title": "t"}})
    assert str(request.url) == "https://api.test/v1/things/7?api-version=2.0&fmt=json"
    assert json.loads(request.content) == {"title": "t", "kind": "task"}


def test_a_dict_for_an_xml_body_is_reported() -> None:
    doc = swagger(
        [ID, {"name": "body", "in": "body", "schema": {"type": "object"}}], consumes=["application/xml"]
    )
    with pytest.raises(ArgumentError, match="must be given as an XML document"):
        build(doc, {"id": "1", "body": {"a": 1}})
    assert build(doc, {"id": "1", "body": "<a/>"}).content == b"<a/>"


def test_numeric_text_is_accepted_for_numeric_parameters() -> None:
    doc = swagger(
        [ID, {"name": "n", "in": "query", "type": "integer"}, {"name": "b", "in": "query", "type": "boolean"}]
    )
    assert build(doc, {"id": "1", "n": "42", "b": "True"}).url.query == b"n=42&b=true"


@pytest.mark.parametrize(
    ("encoding", "value", "path"),
    [
        pytest.param(None, "a/b c?", "/v1/things/a%2Fb%20c%3F", id="single"),
        pytest.param("double", "a/b c", "/v1/things/a%252Fb%2520c", id="double"),
        pytest.param(None, "ünï", "/v1/things/%C3%BCn%C3%AF", id="unicode"),
    ],
)
def test_path_url_encoding(encoding, value, path) -> None:
    param = {**ID, **({"x-ms-url-encoding": encoding} if encoding else {})}
    assert build(swagger([param]), {"id": value}).url.raw_path.decode() == path


@pytest.mark.parametrize(
    ("param", "value", "query"),
    [
        pytest.param({"style": "form", "explode": True}, ["a", "b"], "q=a&q=b", id="form-explode"),
        pytest.param({"style": "form", "explode": False}, ["a", "b"], "q=a,b", id="form"),
        pytest.param({"style": "spaceDelimited", "explode": False}, ["a", "b"], "q=a%20b",
                     id="spaceDelimited"),
        pytest.param({"style": "pipeDelimited", "explode": False}, ["a", "b"], "q=a%7Cb", id="pipeDelimited"),
        pytest.param({"style": "deepObject", "explode": True}, {"x": 1, "y": "z"}, "q%5Bx%5D=1&q%5By%5D=z",
                     id="deepObject"),
        pytest.param({"style": "form", "explode": True}, {"x": 1, "y": True}, "x=1&y=true",
                     id="form-object-explode"),
        pytest.param({"style": "form", "explode": False}, {"x": 1}, "q=x,1", id="form-object"),
    ],
)  # fmt: skip
def test_openapi3_query_styles(param, value, query) -> None:
    schema = {"type": "array", "items": {"type": "string"}} if isinstance(value, list) else {"type": "object"}
    doc = openapi3([{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": schema, **param}])  # fmt: skip
    request = build(doc, {"id": "1", "q": value})
    assert request.url.query.decode() == query


def test_openapi3_path_styles_headers_cookies_and_server_variables() -> None:
    doc = openapi3([
        {"name": "id", "in": "path", "required": True, "style": "matrix", "explode": True,
         "schema": {"type": "array", "items": {"type": "integer"}}},
        {"name": "X-Ids", "in": "header", "schema": {"type": "array", "items": {"type": "integer"}}},
        {"name": "session", "in": "cookie", "schema": {"type": "string"}},
    ])  # fmt: skip
    request = build(
        doc, {"id": [1, 2], "X-Ids": [3, 4], "session": "a b"}, ConnectionContext(parameters={"region": "us"})
    )
    assert str(request.url) == "https://us.api.test/v2/things/;id=1;id=2"
    assert request.headers["x-ids"] == "3,4" and request.headers["cookie"] == "session=a%20b"


def test_openapi3_bodies_by_media_type() -> None:
    form = {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}
    request = build(
        openapi3([{"name": "id", "in": "path", "required": True}], form), {"id": "1", "body": {"a": [1, 2]}}
    )
    assert request.content == b"a=1&a=2"
    multi = {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}, "meta": {"type": "object"}}}}}}  # fmt: skip
    arguments = {"id": "1", "body": {"file": ("a.bin", b"\x00", "application/x-thing"), "meta": {"k": 1}}}
    content = build(openapi3([{"name": "id", "in": "path", "required": True}], multi), arguments).content
    assert b'filename="a.bin"' in content and b"application/x-thing" in content and b'{"k":1}' in content
    binary = {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    request = build(
        openapi3([{"name": "id", "in": "path", "required": True}], binary), {"id": "1", "body": b"\x01"}
    )
    assert request.content == b"\x01" and request.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("host", "base_url", "expected"),
    [
        pytest.param("api.test", None, "https://api.test/v1/things/1", id="definition-host-prefers-https"),
        pytest.param(
            "api.test", "http://127.0.0.1:9/", "http://127.0.0.1:9/v1/things/1", id="base-url-keeps-base-path"
        ),
        pytest.param(None, "http://gw:8/prefix", "http://gw:8/prefix/v1/things/1", id="no-host"),
    ],
)
def test_base_url_rules(host, base_url, expected) -> None:
    doc = swagger([ID])
    if host is None:
        del doc["host"]
    assert str(build(doc, {"id": "1"}, ConnectionContext(base_url=base_url)).url) == expected


def test_no_host_and_no_base_url_is_a_clear_error() -> None:
    doc = swagger([ID])
    del doc["host"]
    with pytest.raises(InputError, match=r"no host .*ConnectionContext\(base_url=...\)"):
        build(doc, {"id": "1"})


@pytest.mark.parametrize(
    ("schema", "value", "ok"),
    [
        pytest.param({"type": "int"}, 5, True, id="int-alias"),
        pytest.param({"type": "int"}, "x", False, id="int-alias-refuses-text"),
        pytest.param({"type": "madeup"}, [1], True, id="unknown-type-accepts"),
        pytest.param({"type": "string", "x-nullable": True}, None, True, id="x-nullable"),
        pytest.param({"type": "string", "pattern": "(?<!x)\\p{L}"}, "a", True, id="ecmascript-regex-skipped"),
        pytest.param({"type": "string", "format": "date-time"}, "yesterday", True, id="formats-lenient"),
        pytest.param(
            {"type": "object", "properties": {"a": {"required": True}}}, {}, True, id="draft3-required"
        ),
        pytest.param({"$ref": "other.json#/X"}, 1, True, id="external-ref-ignored"),
        pytest.param({"type": "string"}, b"bytes", True, id="bytes-are-strings"),
    ],
)
def test_schema_checks_are_lenient_about_real_world_schemas(schema, value, ok) -> None:
    assert (CHECKER.issues(schema, value) == []) is ok


@pytest.mark.parametrize(
    ("method", "headers", "body"),
    [
        pytest.param("GET", {"user-agent": "t"}, b"", id="get"),
        pytest.param("POST", {"user-agent": "t"}, b"", id="empty-post"),
        pytest.param("POST", {"content-type": "application/json"}, b"{}", id="post"),
        pytest.param("PUT", {"Host": "other", "x": "y"}, b"abc", id="own-host"),
        pytest.param("PATCH", {"content-length": "3"}, b"abc", id="own-length"),
        pytest.param("DELETE", {"a": "b"}, b"zz", id="delete-with-body"),
        pytest.param("POST", {"Transfer-Encoding": "chunked"}, b"", id="chunked"),
    ],
)
def test_in_memory_requests_are_the_ones_httpx_builds(method, headers, body) -> None:
    url = httpx.URL("http://api.test:8080/v1/x?a=1")
    expected = httpx.Request(method, url, headers=headers, content=body or None)
    built = _in_memory_request(method, url, headers, body)
    assert built.headers.raw == expected.headers.raw  # names, values and order
    assert built.content == expected.content and built.method == expected.method
    assert type(built.stream) is type(expected.stream)
