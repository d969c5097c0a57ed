"""cURL import: each option family, credentials never copied, and adding to a package."""

from __future__ import annotations

from typing import Any

import pytest

from tests.importers._generated import assert_valid, package_bytes
from tether.errors import InputError
from tether.importers.curl import import_curl

SECRET = "s3cr3t-VALUE-42"


def _only(definition: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    [(path, item)] = definition["paths"].items()
    [(method, operation)] = item.items()
    return path, method, operation


def _params(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{p['in']}:{p['name']}": p for p in operation["parameters"]}


def _import(command: str) -> tuple[dict[str, Any], str, str, dict[str, Any], Any]:
    result = import_curl(command)
    assert_valid(result.package)
    definition = result.package.definition.data
    path, method, operation = _only(definition)
    return definition, path, method, operation, result


METHODS = [
    pytest.param("curl https://api.example.com/v1/items", "get", id="default-get"),
    pytest.param("curl -X DELETE https://api.example.com/v1/items", "delete", id="-X"),
    pytest.param("curl --request put --url https://api.example.com/v1/items", "put", id="--request-lower"),
    pytest.param("curl -XPATCH https://api.example.com/v1/items", "patch", id="-XPATCH"),
    pytest.param("curl -d a=1 https://api.example.com/v1/items", "post", id="data-means-post"),
    pytest.param("curl -I https://api.example.com/v1/items", "head", id="-I"),
    pytest.param("curl -G -d a=1 https://api.example.com/v1/items", "get", id="-G"),
]


@pytest.mark.parametrize(("command", "method"), METHODS)
def test_method(command: str, method: str) -> None:
    definition, path, found, operation, _ = _import(command)
    assert (path, found) == ("/v1/items", method)
    assert definition["host"] == "api.example.com" and definition["schemes"] == ["https"]
    assert operation["operationId"] == method.capitalize() + "V1Items"


def test_url_query_parameters_get_test_values() -> None:
    _, _, _, operation, _ = _import(
        "curl 'http://api.example.com:8080/search?q=pens&limit=5&flag=true&t=a&t=b'"
    )
    params = _params(operation)
    assert params["query:q"]["type"] == "string" and params["query:q"]["x-ms-test-value"] == "pens"
    assert params["query:limit"]["type"] == "integer" and params["query:limit"]["x-ms-test-value"] == 5
    assert params["query:flag"]["x-ms-test-value"] is True
    assert params["query:t"]["collectionFormat"] == "multi" and params["query:t"]["x-ms-test-value"] == [
        "a",
        "b",
    ]


def test_headers_content_type_and_accept() -> None:
    command = (
        "curl https://api.example.com/v1/items -H 'X-Request-Source: docs' "
        "--header 'Accept: application/json' -H 'User-Agent: curl/8' "
        "-H 'Content-Type: text/csv' --data-raw 'a,b'"
    )
    _, _, _, operation, _ = _import(command)
    params = _params(operation)
    assert params["header:X-Request-Source"]["x-ms-test-value"] == "docs"
    assert "header:User-Agent" not in params and "header:Accept" not in params
    assert operation["consumes"] == ["text/csv"] and operation["produces"] == ["application/json"]
    assert params["body:body"]["schema"] == {"type": "string"}


def test_json_body_is_inferred() -> None:
    body = '{"name": "pen", "price": 1.5, "count": 2, "tags": ["a"], "at": "2024-05-01", "owner": {"id": 7}}'
    _, _, method, operation, _ = _import(f"curl https://api.example.com/v1/items --data '{body}'")
    assert method == "post" and operation["consumes"] == ["application/json"]
    assert _params(operation)["body:body"]["schema"] == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "price": {"type": "number", "format": "float"},
            "count": {"type": "integer", "format": "int32"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "at": {"type": "string", "format": "date"},
            "owner": {"type": "object", "properties": {"id": {"type": "integer", "format": "int32"}}},
        },
    }


@pytest.mark.parametrize(
    "option", [pytest.param(o, id=o) for o in ("-d", "--data", "--data-raw", "--data-binary", "--json")]
)
def test_data_options(option: str) -> None:
    _, _, _, operation, _ = _import(f"curl https://api.example.com/v1/items {option} '{{\"a\": true}}'")
    assert _params(operation)["body:body"]["schema"]["properties"]["a"] == {"type": "boolean"}


def test_urlencoded_data_becomes_form_fields() -> None:
    command = "curl https://api.example.com/login -d user=ann -d 'note=hi there' --data-urlencode 'q=a b&c'"
    _, _, _, operation, _ = _import(command)
    params = _params(operation)
    assert operation["consumes"] == ["application/x-www-form-urlencoded"]
    assert params["formData:user"]["x-ms-test-value"] == "ann"
    assert params["formData:q"]["x-ms-test-value"] == "a b&c"


def test_get_moves_data_to_query() -> None:
    _, _, _, operation, _ = _import(
        "curl -G https://api.example.com/find --data-urlencode 'name=Ann Lee' -d n=3"
    )
    params = _params(operation)
    assert params["query:name"]["x-ms-test-value"] == "Ann Lee" and params["query:n"]["x-ms-test-value"] == 3
    assert not any(p["in"] in ("body", "formData") for p in operation["parameters"])


def test_multipart_form_with_file() -> None:
    command = (
        "curl -F 'title=Report' -F 'file=@./report.pdf;type=application/pdf' https://api.example.com/upload"
    )
    _, _, method, operation, _ = _import(command)
    params = _params(operation)
    assert method == "post" and operation["consumes"] == ["multipart/form-data"]
    assert (
        params["formData:file"]["type"] == "file" and params["formData:title"]["x-ms-test-value"] == "Report"
    )


def test_ignored_and_unknown_options_are_reported() -> None:
    command = "curl -sSLk --compressed -o out.json --max-time 5 --frobnicate https://api.example.com/v1/items"
    _, path, _, _, result = _import(command)
    assert path == "/v1/items"
    reported = {(i.kind, i.where) for i in result.report}
    assert {
        ("info", "-s"),
        ("info", "-S"),
        ("info", "-L"),
        ("info", "-k"),
        ("info", "--compressed"),
    } <= reported
    assert ("info", "-o") in reported and ("unsupported", "--frobnicate") in reported


def test_shell_quoting_and_line_continuations() -> None:
    command = 'curl \\\n  -H "X-Note: it\'s \\"quoted\\"" \\\n  \'https://api.example.com/a b\''
    _, path, _, operation, _ = _import(command)
    assert path == "/a b"
    assert _params(operation)["header:X-Note"]["x-ms-test-value"] == 'it\'s "quoted"'


CREDENTIALS = [
    pytest.param(f"curl -u ann:{SECRET} https://api.example.com/me", {"type": "basic"}, id="-u"),
    pytest.param(f"curl --user ann:{SECRET} https://api.example.com/me", {"type": "basic"}, id="--user"),
    pytest.param(f"curl https://ann:{SECRET}@api.example.com/me", {"type": "basic"}, id="url-userinfo"),
    pytest.param(
        f"curl -H 'Authorization: Bearer {SECRET}' https://api.example.com/me",
        {"type": "apiKey", "in": "header", "name": "Authorization"},
        id="bearer",
    ),
    pytest.param(
        f"curl -H 'X-Api-Key: {SECRET}' https://api.example.com/me",
        {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        id="key-header",
    ),
    pytest.param(
        f"curl 'https://api.example.com/me?access_token={SECRET}&x=1'",
        {"type": "apiKey", "in": "query", "name": "access_token"},
        id="key-query",
    ),
]


@pytest.mark.parametrize(("command", "scheme"), CREDENTIALS)
def test_credentials_become_security_and_never_leak(command: str, scheme: dict[str, str]) -> None:
    definition, _, _, _, result = _import(command)
    [(name, found)] = definition["securityDefinitions"].items()
    assert found == scheme and definition["security"] == [{name: []}]
    parameters = result.package.properties.data["properties"]["connectionParameters"]
    expected = {"username", "password"} if scheme["type"] == "basic" else {"api_key"}
    assert set(parameters) == expected and all(p["type"] == "securestring" for p in parameters.values())
    assert SECRET.encode() not in package_bytes(result.package)
    assert SECRET not in str(result.to_dict())
    assert any(i.kind == "warning" for i in result.report)


def test_second_credential_is_a_parameter_without_value() -> None:
    command = (
        f"curl -u ann:{SECRET} -H 'X-Token: {SECRET}x' -F 'password={SECRET}y' https://api.example.com/a"
    )
    definition, _, _, operation, result = _import(command)
    assert list(definition["securityDefinitions"].values()) == [{"type": "basic"}]
    params = _params(operation)
    assert params["header:X-Token"]["required"] is True and "x-ms-test-value" not in params["header:X-Token"]
    assert "x-ms-test-value" not in params["formData:password"]
    assert SECRET.encode() not in package_bytes(result.package)


def test_into_adds_one_operation_and_keeps_the_rest() -> None:
    first = import_curl("curl -H 'Authorization: Bearer abc' https://api.example.com/v1/items").package
    result = import_curl(
        "curl -X POST -H 'Authorization: Bearer def' https://api.example.com/v1/items", into=first
    )
    assert_valid(result.package)
    before, after = first.definition.data, result.package.definition.data
    assert after["paths"]["/v1/items"]["get"] == before["paths"]["/v1/items"]["get"]
    assert after["paths"]["/v1/items"]["post"]["operationId"] == "PostV1Items"
    assert after["securityDefinitions"] == before["securityDefinitions"]
    assert "security" not in after["paths"]["/v1/items"]["post"]
    assert {k: v for k, v in after.items() if k != "paths"} == {
        k: v for k, v in before.items() if k != "paths"
    }
    assert result.package.properties.data == first.properties.data
    again = import_curl("curl -X PUT https://API.example.com:443/v1/items?x=2", into=result.package)
    assert after["paths"]["/v1/items"].keys() <= again.package.definition.data["paths"]["/v1/items"].keys()


def test_into_ids_stay_unique_and_clashes_are_errors() -> None:
    package = import_curl("curl https://api.example.com/v1/items").package
    package = import_curl("curl https://api.example.com/v1/items/", into=package).package
    ids = [op["operationId"] for item in package.definition.data["paths"].values() for op in item.values()]
    assert ids == ["GetV1Items", "GetV1Items2"]
    with pytest.raises(InputError, match="already has GET /v1/items"):
        import_curl("curl https://api.example.com/v1/items", into=package)
    with pytest.raises(InputError, match=r"is for api\.example\.com"):
        import_curl("curl https://other.example.com/v1/items", into=package)


BAD = [
    pytest.param("curl -H 'X: 1'", "no URL", id="no-url"),
    pytest.param("curl 'https://api.example.com", "quotes", id="unbalanced-quote"),
    pytest.param("", "empty", id="empty"),
    pytest.param("curl ftp://files.example.com/x", "not an absolute http", id="ftp"),
    pytest.param("curl -X BREW https://api.example.com/pot", "cannot be described", id="bad-method"),
    pytest.param("curl https://api.example.com -H", "needs a value", id="missing-value"),
]


@pytest.mark.parametrize(("command", "message"), BAD)
def test_bad_commands(command: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        import_curl(command)
