"""Postman importer: every sample imports validly, operations match the collections field by field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests._paths import SAMPLES, need
from tether.definition.lint import lint_package
from tether.errors import DocumentSyntaxError, InputError, TetherError
from tether.importers import write_package
from tether.importers.postman import import_postman

POSTMAN = SAMPLES / "postman"
SAMPLE_FILES = sorted(POSTMAN.glob("*.json")) if POSTMAN.exists() else []
V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def _load(name: str, **options: Any) -> Any:
    path = need(POSTMAN / name)
    return import_postman(path.read_bytes(), name=name, **options)


def _merges(result: Any) -> dict[str, str]:
    """Request (item path) -> the operation it was merged into, as the report says."""
    found = (re.search(r"merged into operation '([^']+)'", i.message) for i in result.report)
    return {i.where: m.group(1) for i, m in zip(result.report, found, strict=True) if m}


def _operations(result: Any) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (METHOD, path, operation)."""
    paths = result.package.definition.data["paths"]
    return {op["operationId"]: (m.upper(), p, op) for p, item in paths.items() for m, op in item.items()}


def _params(operation: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [(p["name"], p["in"], p["required"]) for p in operation.get("parameters", [])]


def _count_requests(items: list[Any]) -> int:
    return sum(_count_requests(i["item"]) if "item" in i else 1 for i in items)


def _policies(result: Any, template: str) -> list[dict[str, Any]]:
    instances = result.package.properties.data["properties"].get("policyTemplateInstances", [])
    return [i["parameters"] for i in instances if i["templateId"] == template]


def _collection(items: list[Any], **extra: Any) -> bytes:
    return json.dumps({"info": {"name": "Test", "schema": V21}, "item": items, **extra}).encode()


@pytest.mark.parametrize("merge", [pytest.param(True, id="merged"), pytest.param(False, id="kept")])
@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in SAMPLE_FILES])
def test_every_sample_imports_valid_and_lint_clean(path: Path, merge: bool, tmp_path: Path) -> None:
    result = import_postman(path.read_bytes(), name=path.name, merge_duplicates=merge)
    definition = result.package.definition.data
    validate(definition)
    errors = [f for f in lint_package(result.package, profile="custom") if f.severity == "error"]
    assert errors == []
    requests = _count_requests(json.loads(path.read_text(encoding="utf-8"))["item"])
    # Every request is an operation, or merged into one and the report says which.
    merges = _merges(result)
    assert set(merges.values()) <= set(_operations(result))
    assert len(_operations(result)) + len(merges) == requests
    assert bool(merges) is merge  # every sample has requests sharing a method and path
    out = write_package(result.package, tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == ["apiDefinition.swagger.json", "apiProperties.json"]


def test_samples_are_present() -> None:
    need(POSTMAN)
    assert len(SAMPLE_FILES) == 5


CODEGEN = [
    pytest.param(
        "RequestHeadersWithSpecialCharacters",
        "GET",
        "/headers",
        [("my-sample-header", "header", False), ("TEST", "header", False), ("more", "header", False)],
        None,
        id="headers",
    ),
    pytest.param(
        "RequestHeaders",
        "GET",
        "/headers/RequestHeaders",
        [("my-sample-header", "header", False), ("testing", "header", False), ("TEST", "header", False)],
        None,
        id="headers-content-type-dropped",
    ),
    pytest.param(
        "RequestHeadersWithDisabledHeaders",
        "GET",
        "/headers/RequestHeadersWithDisabledHeaders",
        [
            ("my-sample-header", "header", False),
            ("not-disabled-header", "header", False),
            ("disabled header", "header", False),
        ],
        None,
        id="disabled-header",
    ),
    pytest.param(
        "GETRequestWithDisabledQuery",
        "GET",
        "/get",
        [("test", "query", False), ("anotherone", "query", False), ("anotheroneone", "query", False)],
        None,
        id="disabled-query",
    ),
    pytest.param("POSTRawText", "POST", "/post", [("body", "body", True)], "text/plain", id="raw-text"),
    pytest.param(
        "POSTJsonWithRaw",
        "POST",
        "/post/POSTJsonWithRaw",
        [("body", "body", True)],
        "application/json",
        id="raw-json",
    ),
    pytest.param(
        "POSTGraphqlBodyJsonWithRaw",
        "POST",
        "/post/POSTGraphqlBodyJsonWithRaw",
        [("body", "body", True)],
        "application/json",
        id="graphql",
    ),
    pytest.param(
        "POSTJavascriptWithRaw",
        "POST",
        "/post/POSTJavascriptWithRaw",
        [("body", "body", True)],
        "application/javascript",
        id="raw-js",
    ),
    pytest.param(
        "POSTTextXmlWithRaw",
        "POST",
        "/post/POSTTextXmlWithRaw",
        [("body", "body", True)],
        "text/xml",
        id="raw-xml",
    ),
    pytest.param(
        "POSTTextHtmlWithRaw",
        "POST",
        "/post/POSTTextHtmlWithRaw",
        [("body", "body", True)],
        "text/html",
        id="raw-html",
    ),
    pytest.param(
        "POSTUrlencodedData",
        "POST",
        "/post/POSTUrlencodedData",
        [
            ("1", "formData", True),
            ("2", "formData", True),
            ("'3'", "formData", True),
            ('"4"', "formData", True),
            ("Special", "formData", True),
            ("more", "formData", True),
            ("non-ascii", "formData", True),
        ],
        "application/x-www-form-urlencoded",
        id="urlencoded",
    ),
    pytest.param("PUTRequest", "PUT", "/put", [("body", "body", True)], "text/plain", id="put"),
    pytest.param("PATCHRequest", "PATCH", "/patch", [("body", "body", True)], "text/plain", id="patch"),
    pytest.param("DELETERequest", "DELETE", "/delete", [], None, id="delete"),
]


@pytest.mark.parametrize(("op_id", "method", "path", "params", "consumes"), CODEGEN)
def test_codegen_collection_field_by_field(
    op_id: str, method: str, path: str, params: list[Any], consumes: str | None
) -> None:
    # Request by request, so with duplicates kept apart (routed by policies, at virtual paths).
    result = _load("codegen-basic-graphql-urlencoded.postman_collection.json", merge_duplicates=False)
    operations = _operations(result)
    assert len(operations) == 14
    got_method, got_path, operation = operations[op_id]
    assert (got_method, got_path, _params(operation)) == (method, path, params)
    assert operation.get("consumes") == ([consumes] if consumes else None)
    assert "security" not in operation
    definition = result.package.definition.data
    assert (definition["host"], definition["basePath"], definition["schemes"]) == (
        "postman-echo.com",
        "/",
        ["https"],
    )
    assert "securityDefinitions" not in definition


def test_codegen_bodies_and_routing() -> None:
    result = _load("codegen-basic-graphql-urlencoded.postman_collection.json", merge_duplicates=False)
    operations = _operations(result)
    json_body = operations["POSTJsonWithRaw"][2]["parameters"][0]["schema"]
    assert json_body == {
        "type": "object",
        "properties": {"json": {"type": "string"}},
        "example": {"json": "Test-Test"},
    }
    graphql = operations["POSTGraphqlBodyJsonWithRaw"][2]["parameters"][0]["schema"]
    assert graphql["example"]["variables"] == {"variable_key": "variable_value"}
    assert graphql["properties"]["query"]["type"] == "string"
    assert operations["POSTTextXmlWithRaw"][2]["parameters"][0]["schema"] == {"type": "string"}
    assert operations["POSTUrlencodedData"][2]["parameters"][6]["x-ms-test-value"] == "테스트"
    routes = _policies(result, "routerequesttoendpoint")
    assert {
        r["x-ms-apimTemplate-operationName"][0]: r["x-ms-apimTemplateParameter.newPath"] for r in routes
    } == {
        "RequestHeaders": "/headers",
        "RequestHeadersWithDisabledHeaders": "/headers",
        **{
            op: "/post"
            for op in (
                "POSTJsonWithRaw",
                "POSTGraphqlBodyJsonWithRaw",
                "POSTJavascriptWithRaw",
                "POSTTextXmlWithRaw",
                "POSTTextHtmlWithRaw",
                "POSTUrlencodedData",
            )
        },
    }
    kinds = {(i.kind, i.where) for i in result.report}
    assert ("approximation", "POST text/xml with raw") in kinds
    assert ("unsupported", "POST Raw Text") in kinds  # its test script


def test_codegen_duplicates_merge_by_default() -> None:
    result = _load("codegen-basic-graphql-urlencoded.postman_collection.json")
    operations = _operations(result)
    assert len(operations) == 7
    method, path, headers = operations["RequestHeadersWithSpecialCharacters"]
    assert (method, path) == ("GET", "/headers")
    assert _params(headers) == [
        ("my-sample-header", "header", False),
        ("TEST", "header", False),
        ("more", "header", False),
        ("testing", "header", False),
        ("not-disabled-header", "header", False),
        ("disabled header", "header", False),
    ]
    method, path, post = operations["POSTRawText"]
    assert (method, path, _params(post)) == ("POST", "/post", [("body", "body", True)])
    assert post["consumes"] == [
        "text/plain",
        "application/json",
        "application/javascript",
        "text/xml",
        "text/html",
    ]
    # Form fields and a body cannot share a Swagger 2.0 operation: that one stays routed.
    assert operations["POSTUrlencodedData"][:2] == ("POST", "/post/POSTUrlencodedData")
    routes = _policies(result, "routerequesttoendpoint")
    assert [r["x-ms-apimTemplate-operationName"] for r in routes] == [["POSTUrlencodedData"]]
    assert _merges(result) == {
        "Request Headers": "RequestHeadersWithSpecialCharacters",
        "Request Headers with disabled headers": "RequestHeadersWithSpecialCharacters",
        **{
            where: "POSTRawText"
            for where in (
                "POST json with raw",
                "POST graphql body(json) with raw",
                "POST javascript with raw",
                "POST text/xml with raw",
                "POST text/html with raw",
            )
        },
    }
    kinds = {(i.kind, i.where) for i in result.report}
    assert ("unsupported", "POST Raw Text") in kinds  # its test script


def test_conduit_collection_field_by_field() -> None:
    result = _load("realworld-conduit.postman_collection.json")
    operations = _operations(result)
    assert len(operations) == 21  # 32 requests; 11 merged into an operation on their method and path
    header = ("X-Requested-With", "header", False)
    auth = [{"api_key": []}]
    filters = [("author", "query", False), ("favorited", "query", False), ("tag", "query", False)]
    expected = {
        "Register": ("POST", "/users", [header, ("body", "body", True)], []),
        "Login": ("POST", "/users/login", [header, ("body", "body", True)], []),
        "CurrentUser": ("GET", "/user", [header], auth),
        "UpdateUser": ("PUT", "/user", [header, ("body", "body", True)], auth),
        # "All Articles", "Articles by Author", "... by Tag", "... Favorited by Username": one action
        "AllArticles": ("GET", "/articles", [header, *filters], []),
        # The same four with auth cannot merge into it (another auth): they are one routed action.
        "AllArticles2": (
            "GET",
            "/articles/AllArticles2",
            [header, ("author", "query", False), ("tag", "query", False), ("favorited", "query", False)],
            auth,
        ),
        "SingleArticleBySlug": ("GET", "/articles/{slug}", [("slug", "path", True), header], auth),
        "DeleteCommentForArticle": (
            "DELETE",
            "/articles/{slug}/comments/{commentId}",
            [("slug", "path", True), ("commentId", "path", True), header],
            auth,
        ),
        "AllCommentsForArticleWithoutLogin": (
            "GET",
            "/articles/{slug}/comments/AllCommentsForArticleWithoutLogin",
            [("slug", "path", True), header],
            [],
        ),
        "Profile": ("GET", "/profiles/celeb_{USERNAME}", [("USERNAME", "path", True), header], auth),
        "AllTags": ("GET", "/tags", [header], []),
    }
    for op_id, (method, path, params, security) in expected.items():
        got_method, got_path, operation = operations[op_id]
        assert (got_method, got_path, _params(operation), operation["security"]) == (
            method,
            path,
            params,
            security,
        )
    filters_of = {p["name"]: p for p in operations["AllArticles"][2]["parameters"]}
    assert filters_of["author"]["x-ms-test-value"] == "johnjacob"  # from "Articles by Author"
    assert "x-ms-test-value" not in filters_of["favorited"]  # {{USERNAME}}
    assert _merges(result)["Auth / Login and Remember Token"] == "Login"
    assert _merges(result)["Articles / Articles by Tag"] == "AllArticles"
    assert _merges(result)["Articles, Favorite, Comments / All Articles with auth"] == "AllArticles2"
    assert _policies(result, "routerequesttoendpoint") == [
        {
            "x-ms-apimTemplateParameter.newPath": path,
            "x-ms-apimTemplateParameter.httpMethod": "GET",
            "x-ms-apimTemplate-operationName": [op_id],
        }
        for op_id, path in (
            ("AllArticles2", "/articles"),
            ("AllCommentsForArticleWithoutLogin", "/articles/{slug}/comments"),
        )
    ]
    login = operations["Login"][2]["parameters"][1]["schema"]
    assert login["properties"]["user"]["properties"] == {
        "email": {"type": "string"},
        "password": {"type": "string"},
    }
    definition = result.package.definition.data
    assert definition["securityDefinitions"] == {
        "api_key": {"type": "apiKey", "in": "header", "name": "Authorization"}
    }
    assert "security" not in definition
    # {{APIURL}} has no value in the collection: it is asked for when connecting.
    assert definition["host"] == "apiurl"
    properties = result.package.properties.data["properties"]
    assert sorted(properties["connectionParameters"]) == ["APIURL", "api_key"]
    assert properties["connectionParameters"]["api_key"]["type"] == "securestring"
    assert _policies(result, "dynamichosturl") == [
        {"x-ms-apimTemplateParameter.urlTemplate": "@connectionParameters('APIURL')"}
    ]
    assert definition["tags"] == [
        {"name": n} for n in ("Auth", "Articles", "Articles, Favorite, Comments", "Profiles", "Tags")
    ]


def test_multi_level_folders_become_tags() -> None:
    # Six GET /get requests in different folders: merged, the operation is in each folder's tag.
    merged = _load("newman-multi-level-folders-v2.postman_collection.json")
    got = {op_id: (m, p, op.get("tags")) for op_id, (m, p, op) in _operations(merged).items()}
    assert got == {"F1R1": ("GET", "/get", ["F1", "F2 / F2.F3", "F2"])}
    assert [t["name"] for t in merged.package.definition.data["tags"]] == ["F1", "F2", "F2 / F2.F3"]
    assert len(_merges(merged)) == 5
    # Kept apart, each request is an action tagged with its own folder.
    result = _load("newman-multi-level-folders-v2.postman_collection.json", merge_duplicates=False)
    got = {op_id: (m, p, op.get("tags")) for op_id, (m, p, op) in _operations(result).items()}
    assert got == {
        "F1R1": ("GET", "/get", ["F1"]),
        "F1R2": ("GET", "/get/F1R2", ["F1"]),
        "F1R3": ("GET", "/get/F1R3", ["F1"]),
        "F2F3R1": ("GET", "/get/F2F3R1", ["F2 / F2.F3"]),
        "F2R1": ("GET", "/get/F2R1", ["F2"]),
        "R1": ("GET", "/get/R1", None),
    }
    assert [t["name"] for t in result.package.definition.data["tags"]] == ["F1", "F2", "F2 / F2.F3"]


def test_echo_collection_auth_and_responses() -> None:
    result = _load("newman-postman-echo-v2.postman_collection.json")
    operations = _operations(result)
    assert len(operations) == 21  # 22 requests: "DigestAuth Success" shares GET /digest-auth
    assert _merges(result) == {"Auth: Digest / DigestAuth Success": "DigestAuthRequest"}
    assert operations["BasicAuth"][:2] == ("GET", "/basic-auth")
    assert operations["BasicAuth"][2]["security"] == [{"basic_auth": []}]
    assert operations["DigestAuthRequest"][2]["security"] == []
    assert operations["OAuth10VerifySignature"][2]["security"] == []
    assert operations["OAuth20GetResource"][2]["security"] == [{"api_key": []}]
    assert list(operations["BasicAuth"][2]["responses"]) == ["401", "200"]
    cookies = operations["SetCookies"][2]
    assert _params(cookies) == [("foo1", "query", False), ("foo2", "query", False)]
    assert cookies["responses"]["200"]["schema"]["properties"]["cookies"]["type"] == "object"
    assert cookies["responses"]["200"]["examples"]["application/json"]["cookies"] == {
        "foo1": "bar",
        "foo2": "bar",
    }
    token = operations["OAuth20GetAccessToken"][2]
    assert token["consumes"] == ["multipart/form-data"]
    secret = next(p for p in token["parameters"] if p["name"] == "client_secret")
    assert "x-ms-test-value" not in secret  # sample credentials are never copied
    sets = result.package.properties.data["properties"]["connectionParameterSets"]["values"]
    assert [(s["name"], sorted(s["parameters"])) for s in sets] == [
        ("basic_auth", ["password", "username"]),
        ("api_key", ["api_key"]),
    ]
    unsupported = {i.where for i in result.report if i.kind == "unsupported" and "auth" in i.message}
    assert unsupported == {"Auth: Digest / DigestAuth Success", "Auth: Others / OAuth1.0 Verify Signature"}


@pytest.mark.parametrize("merge", [pytest.param(True, id="merged"), pytest.param(False, id="kept")])
def test_insomnia_oauth_grants_are_reported_not_invented(merge: bool) -> None:
    result = _load("insomnia-oauth2-grant-types.postman_collection.json", merge_duplicates=merge)
    if merge:  # no grant maps to an auth, so all five requests are one operation
        assert [op[:2] for op in _operations(result).values()] == [("GET", "/request/any")]
        assert sorted(_merges(result)) == ["client", "implicit", "password", "pkce"]
    else:
        assert [op[:2] for op in _operations(result).values()] == [("GET", "/request/any")] + [
            ("GET", f"/request/any/{n}") for n in ("Pkce", "Implicit", "Password", "Client")
        ]
    assert "securityDefinitions" not in result.package.definition.data
    assert result.package.definition.data["schemes"] == ["http"]
    reasons = {i.where: i.message for i in result.report if i.kind == "unsupported"}
    assert "'test', not an absolute http(s) URL" in reasons["auth code"]
    assert "'implicit' is not supported" in reasons["implicit"]
    assert "'password_credentials' is not supported" in reasons["password"]


def _oauth(grant: str, **more: str) -> dict[str, Any]:
    settings = {
        "grant_type": grant,
        "authUrl": "https://login.example.com/authorize",
        "accessTokenUrl": "{{tokenUrl}}",
        "clientId": "my-client",
        "clientSecret": "s3cret",
        "scope": "read write",
        **more,
    }
    return {"type": "oauth2", "oauth2": [{"key": k, "value": v} for k, v in settings.items()]}


def _request(name: str, method: str, url: Any, **more: Any) -> dict[str, Any]:
    return {"name": name, "request": {"method": method, "url": url, **more}}


def test_auth_inheritance_and_oauth_sets() -> None:
    source = _collection(
        [
            {
                "name": "Code",
                "auth": _oauth("authorization_code_with_pkce", challengeAlgorithm="S256"),
                "item": [
                    _request("Get item", "GET", "{{baseUrl}}/items/:id"),
                    _request("Public", "GET", "{{baseUrl}}/public", auth={"type": "noauth"}),
                ],
            },
            _request("Machine", "POST", "{{baseUrl}}/jobs", auth=_oauth("client_credentials")),
            _request("Inherits root", "GET", "{{baseUrl}}/me"),
        ],
        auth={
            "type": "apikey",
            "apikey": [{"key": "key", "value": "X-Key"}, {"key": "in", "value": "query"}],
        },
        variable=[
            {"key": "baseUrl", "value": "https://api.example.com/v2"},
            {"key": "tokenUrl", "value": "https://login.example.com/token"},
        ],
    )
    result = import_postman(source)
    definition = result.package.definition.data
    validate(definition)
    assert [f for f in lint_package(result.package) if f.severity == "error"] == []
    assert (definition["host"], definition["basePath"], definition["schemes"]) == (
        "api.example.com",
        "/v2",
        ["https"],
    )
    operations = _operations(result)
    assert operations["GetItem"][1] == "/items/{id}"
    assert operations["GetItem"][2]["parameters"][0]["x-ms-summary"] == "id"
    assert {k: v[2]["security"] for k, v in operations.items()} == {
        "GetItem": [{"oauth2": ["read", "write"]}],
        "Public": [],
        "Machine": [{"oauth2_2": ["read", "write"]}],
        "InheritsRoot": [{"api_key": []}],
    }
    assert definition["securityDefinitions"] == {
        "oauth2": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": "https://login.example.com/authorize",
            "tokenUrl": "https://login.example.com/token",
            "scopes": {"read": "read", "write": "write"},
        },
        "oauth2_2": {
            "type": "oauth2",
            "flow": "application",
            "tokenUrl": "https://login.example.com/token",
            "scopes": {"read": "read", "write": "write"},
        },
        "api_key": {"type": "apiKey", "in": "query", "name": "X-Key"},
    }
    sets = result.package.properties.data["properties"]["connectionParameterSets"]["values"]
    assert [s["name"] for s in sets] == ["oauth2", "oauth2_2", "api_key"]
    settings = sets[0]["parameters"]["token"]["oAuthSettings"]
    assert settings["identityProvider"] == "oauth2"
    assert settings["clientId"] == "my-client"
    assert "clientSecret" not in settings
    assert settings["customParameters"]["codeChallengeMethod"] == {"value": "S256"}
    assert sets[1]["parameters"]["token"]["oAuthSettings"]["customParameters"]["grantType"] == {
        "value": "client_credentials"
    }
    assert b"s3cret" not in result.package.files["apiProperties.json"]


def test_bodies_formdata_file_json_inference_and_other_hosts() -> None:
    json_body = '{"name": "Rex", "age": {{age}}, "tags": ["a"], "owner": {"id": 1.5, "ok": true}}'
    source = _collection(
        [
            _request(
                "Upload",
                "POST",
                "https://api.example.com/files?dry=1",
                body={
                    "mode": "formdata",
                    "formdata": [
                        {"key": "file", "type": "file", "src": "/tmp/x.png"},
                        {"key": "note", "value": "hi", "type": "text", "disabled": True},
                    ],
                },
            ),
            _request(
                "Create pet",
                "POST",
                "https://api.example.com/pets",
                header=[{"key": "Content-Type", "value": "application/json"}],
                body={"mode": "raw", "raw": json_body},
            ),
            _request(
                "Other host", "GET", "https://other.example.com/ping", auth={"type": "hawk", "hawk": []}
            ),
        ]
    )
    result = import_postman(source)
    validate(result.package.definition.data)
    operations = _operations(result)
    upload = operations["Upload"][2]
    assert upload["consumes"] == ["multipart/form-data"]
    assert [(p["name"], p["in"], p["type"], p["required"]) for p in upload["parameters"]] == [
        ("dry", "query", "string", False),
        ("file", "formData", "file", True),
        ("note", "formData", "string", False),
    ]
    schema = operations["CreatePet"][2]["parameters"][0]["schema"]
    assert schema["properties"] == {
        "name": {"type": "string"},
        "age": {},
        "tags": {"type": "array", "items": {"type": "string"}},
        "owner": {"type": "object", "properties": {"id": {"type": "number"}, "ok": {"type": "boolean"}}},
    }
    assert _policies(result, "dynamichosturl") == [
        {
            "x-ms-apimTemplateParameter.urlTemplate": "https://other.example.com",
            "x-ms-apimTemplate-operationName": ["OtherHost"],
        }
    ]
    assert ("unsupported", "Other host") in {(i.kind, i.where) for i in result.report}


BAD_INPUTS = [
    pytest.param(b'{"info": {"name": "x"', DocumentSyntaxError, "bad.json:1", id="broken-json"),
    pytest.param(b"[1, 2]", InputError, "not a Postman collection v2.0/v2.1", id="not-an-object"),
    pytest.param(
        b'{"openapi": "3.0.0", "paths": {}}', InputError, "not a Postman collection v2.0/v2.1", id="openapi"
    ),
    pytest.param(
        b'{"id": "x", "name": "old", "order": [], "requests": []}', InputError, "v1 collection", id="v1"
    ),
    pytest.param(
        json.dumps(
            {"info": {"name": "x", "schema": "https://schema.getpostman.com/json/collection/v1.0.0/"}}
        ).encode(),
        InputError,
        "not a Postman collection v2.0/v2.1",
        id="v1-schema",
    ),
    pytest.param(_collection([]), InputError, "has no request", id="empty"),
    pytest.param(
        _collection([{"name": "F", "item": [{"name": "G", "item": []}]}]),
        InputError,
        "has no request",
        id="only-empty-folders",
    ),
]


@pytest.mark.parametrize(("source", "error", "text"), BAD_INPUTS)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    source: bytes, error: type[TetherError], text: str, tmp_path: Path
) -> None:
    out = tmp_path / "connector"
    with pytest.raises(error, match=text) as caught:
        write_package(import_postman(source, name="bad.json").package, out)
    assert isinstance(caught.value, TetherError)
    assert "bad.json" in caught.value.message
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
