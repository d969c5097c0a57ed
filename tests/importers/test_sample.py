"""Import from sample: HTTP request/response text, JSON descriptions, shared schema inference."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.importers._generated import assert_valid, package_bytes
from tether.errors import InputError
from tether.importers._infer import infer_schema
from tether.importers.curl import import_curl
from tether.importers.sample import import_sample

SECRET = "tok-SECRET-9"
REQUEST = (
    b"POST https://api.example.com/v1/items?x=1 HTTP/1.1\r\n"
    b"Content-Type: application/json\r\n"
    b"Authorization: Bearer " + SECRET.encode() + b"\r\n"
    b"X-Client: docs\r\n"
    b"\r\n"
    b'{"name": "pen", "price": 2.5}'
)
RESPONSE = (
    b'HTTP/1.1 201 Created\nContent-Type: application/json\n\n{"id": "3f2b8c1e-0000-4000-8000-000000000001"}'
)


def _operation(result: Any) -> dict[str, Any]:
    [(_path, item)] = result.package.definition.data["paths"].items()
    [(_method, operation)] = item.items()
    return operation


def test_http_request_and_response_text() -> None:
    result = import_sample(REQUEST, RESPONSE)
    assert_valid(result.package)
    definition = result.package.definition.data
    operation = definition["paths"]["/v1/items"]["post"]
    params = {f"{p['in']}:{p['name']}": p for p in operation["parameters"]}
    assert params["query:x"]["x-ms-test-value"] == 1
    assert params["header:X-Client"]["x-ms-test-value"] == "docs"
    assert params["body:body"]["schema"] == {
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "number", "format": "float"}},
    }
    assert operation["responses"] == {
        "201": {
            "description": "Success",
            "schema": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}},
        }
    }
    assert operation["produces"] == ["application/json"]
    assert definition["securityDefinitions"]["API Key"]["name"] == "Authorization"
    assert SECRET.encode() not in package_bytes(result.package)


def test_json_description_and_bare_response_body() -> None:
    description = {
        "method": "put",
        "url": "https://api.example.com/v1/items/7",
        "headers": [{"name": "X-Api-Key", "value": SECRET}, ["If-Match", "abc"]],
        "body": {"tags": ["a", "b"], "done": False},
    }
    result = import_sample(json.dumps(description).encode(), b'[{"id": 1}, {"id": 2, "note": null}]')
    assert_valid(result.package)
    operation = _operation(result)
    assert operation["operationId"] == "PutV1Items7"
    assert operation["responses"]["200"]["schema"] == {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"id": {"type": "integer", "format": "int32"}, "note": {"x-nullable": True}},
        },
    }
    assert result.package.definition.data["securityDefinitions"]["API Key"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
    }
    assert SECRET.encode() not in package_bytes(result.package)


def test_origin_form_target_uses_host_header_and_form_body() -> None:
    request = (
        b"POST /login HTTP/1.1\nHost: auth.example.com\nContent-Type: application/x-www-form-urlencoded\n\n"
    )
    result = import_sample(request + b"user=ann&password=" + SECRET.encode())
    assert_valid(result.package)
    definition = result.package.definition.data
    assert definition["host"] == "auth.example.com" and "/login" in definition["paths"]
    params = {p["name"]: p for p in _operation(result)["parameters"]}
    assert params["user"]["x-ms-test-value"] == "ann" and "x-ms-test-value" not in params["password"]
    assert SECRET.encode() not in package_bytes(result.package)
    assert any(i.kind == "approximation" for i in result.report)


def test_multipart_request_and_text_response() -> None:
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nQ3\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="doc"; filename="q3.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--XyZ--\r\n"
    )
    request = (
        b"POST https://files.example.com/upload HTTP/1.1\nContent-Type: multipart/form-data; boundary=XyZ\n\n"
    )
    result = import_sample(request + body, b"HTTP/1.1 200 OK\nContent-Type: text/plain\n\nstored")
    assert_valid(result.package)
    operation = _operation(result)
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["doc"]["type"] == "file" and params["title"]["x-ms-test-value"] == "Q3"
    assert operation["responses"]["200"]["schema"] == {"type": "string"}
    assert operation["produces"] == ["text/plain"]


def test_into_an_existing_package_from_curl() -> None:
    package = import_curl("curl https://api.example.com/v1/items").package
    result = import_sample(REQUEST, RESPONSE, into=package)
    assert_valid(result.package)
    paths = result.package.definition.data["paths"]
    assert set(paths["/v1/items"]) == {"get", "post"}
    assert paths["/v1/items"]["get"] == package.definition.data["paths"]["/v1/items"]["get"]
    assert paths["/v1/items"]["post"]["security"] == [{"API Key": []}]
    assert any(i.where == "securityDefinitions" for i in result.report)
    with pytest.raises(InputError, match=r"is for api\.example\.com"):
        import_sample(b"GET https://elsewhere.example.com/x HTTP/1.1\n\n", into=package)


BAD = [
    pytest.param(b"hello there", None, "expected a request line", id="no-request-line"),
    pytest.param(b"GET /x HTTP/1.1\n\n", None, "Host header", id="path-without-host"),
    pytest.param(
        b"GET https://a.example.com/x HTTP/1.1\nno colon here\n\n",
        None,
        ":2: expected a header",
        id="bad-header",
    ),
    pytest.param(b'{"method": "GET"}', None, "needs a string 'url'", id="json-without-url"),
    pytest.param(b"{not json", None, "not a JSON object", id="broken-json"),
    pytest.param(b"GET https://a.example.com/x\n\n", b"HTTP/1.1 OK\n\n", "status line", id="bad-status"),
]


@pytest.mark.parametrize(("request_bytes", "response", "message"), BAD)
def test_bad_samples(request_bytes: bytes, response: bytes | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        import_sample(request_bytes, response)


INFERENCE = [
    pytest.param(True, {"type": "boolean"}, id="bool"),
    pytest.param(2**40, {"type": "integer", "format": "int64"}, id="int64"),
    pytest.param("2024-05-01T10:00:00Z", {"type": "string", "format": "date-time"}, id="date-time"),
    pytest.param("ann@example.com", {"type": "string", "format": "email"}, id="email"),
    pytest.param("https://example.com/x", {"type": "string", "format": "uri"}, id="uri"),
    pytest.param([1, 2.5], {"type": "array", "items": {"type": "number", "format": "float"}}, id="widened"),
    pytest.param(["2024-05-01", "x"], {"type": "array", "items": {"type": "string"}}, id="formats-disagree"),
    pytest.param([1, "a"], {"type": "array", "items": {}}, id="mixed"),
    pytest.param([], {"type": "array", "items": {}}, id="empty-array"),
    pytest.param(
        [{"a": 1}, {"b": "x"}],
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"a": {"type": "integer", "format": "int32"}, "b": {"type": "string"}},
            },
        },
        id="objects-united",
    ),
]


@pytest.mark.parametrize(("value", "schema"), INFERENCE)
def test_inference(value: Any, schema: dict[str, Any]) -> None:
    assert infer_schema(value) == schema
