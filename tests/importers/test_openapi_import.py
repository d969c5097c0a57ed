"""import_openapi: real samples, bundling sibling files, security schemes, --fix, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.shortcuts import get_validator_cls

from tests._paths import SAMPLES
from tether.definition import read_document
from tether.definition.lint import lint_package
from tether.errors import DocumentSyntaxError, InputError, TetherError
from tether.importers._openapi import import_openapi
from tether.importers._result import write_package

SAMPLE_FILES = sorted((SAMPLES / "openapi3").glob("*")) + sorted((SAMPLES / "swagger2").glob("*"))
INVALID_SAMPLES = {
    "xero-accounting.yaml",
    "nytimes-books.json",
    "slack-web-api.json",
    "swagger-petstore-full.json",
}


def _is_valid(data: dict) -> bool:
    return next(iter(get_validator_cls(data)(data).iter_errors()), None) is None


def _json_model(data: dict) -> dict:
    return json.loads(json.dumps(data))


@pytest.mark.parametrize("source", [pytest.param(p, id=p.name) for p in SAMPLE_FILES])
def test_every_sample_imports(source: Path) -> None:
    original = _json_model(read_document(source).data)
    result = import_openapi(source)
    output = result.package.definition.data
    assert output == original, "the document is kept as written"
    if source.name in INVALID_SAMPLES:
        assert not _is_valid(original)
        problems = [item for item in result.report if item.kind == "warning"]
        assert problems, "an invalid source gets a report of its problems"
        assert all(item.where.startswith("/") for item in problems), [str(i) for i in problems]
    else:
        assert _is_valid(original)
        validate(output)
        assert not [f for f in lint_package(result.package) if f.severity == "error"]


@pytest.mark.parametrize("source", [pytest.param(p, id=p.name) for p in SAMPLE_FILES])
def test_fix_makes_every_sample_valid(source: Path) -> None:
    result = import_openapi(source, fix=True)
    validate(result.package.definition.data)
    fixes = [item for item in result.report if item.kind == "fix"]
    assert bool(fixes) == (source.name in INVALID_SAMPLES)
    assert not [f for f in lint_package(result.package) if f.severity == "error"]


def test_fix_coerces_and_reports_each_repair(tmp_path: Path) -> None:
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1", "logo": "x.png"},
        "paths": {},
        "components": {
            "schemas": {
                "A": {"type": "boolean", "default": "true"},
                "B": {"type": "integer", "default": "7", "enum": [1, 7, 7]},
                "C": {"type": ["string", "null"]},
                "D": {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "allOf": [{}],
                    "required": ["zz"],
                },
            }
        },
    }
    source = tmp_path / "api.json"
    source.write_text(json.dumps(doc))
    result = import_openapi(source, fix=True)
    data = result.package.definition.data
    validate(data)
    schemas = data["components"]["schemas"]
    assert schemas["A"]["default"] is True
    assert schemas["B"]["default"] == 7 and schemas["B"]["enum"] == [1, 7]
    assert schemas["C"] == {"type": "string", "nullable": True}
    assert "required" not in schemas["D"]
    assert data["info"]["x-logo"] == "x.png"
    wheres = {item.where for item in result.report if item.kind == "fix"}
    assert "/components/schemas/A/default" in wheres
    assert "/info/logo" in wheres


def test_sibling_files_are_bundled(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "pet.yaml").write_text(
        yaml.safe_dump(
            {
                "Pet": {
                    "type": "object",
                    "properties": {"tag": {"$ref": "#/Tag"}, "owner": {"$ref": "owner.json"}},
                },
                "Tag": {"type": "string"},
            }
        )
    )
    (tmp_path / "schemas" / "owner.json").write_text(json.dumps({"type": "object"}))
    main = {
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1"},
        "paths": {
            "/pets": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "schemas/pet.yaml#/Pet"}}},
                        }
                    }
                }
            }
        },
        "components": {"schemas": {"Pet": {"type": "string"}, "Local": {"$ref": "#/components/schemas/Pet"}}},
    }
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(main, sort_keys=False))
    data = import_openapi(tmp_path / "api.yaml").package.definition.data
    ref = data["paths"]["/pets"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Pet_2"  # "Pet" was taken
    schemas = data["components"]["schemas"]
    assert schemas["Pet_2"]["properties"]["tag"] == {"$ref": "#/components/schemas/Tag"}
    assert schemas["Pet_2"]["properties"]["owner"] == {"$ref": "#/components/schemas/owner"}
    assert schemas["Tag"] == {"type": "string"} and schemas["owner"] == {"type": "object"}
    assert schemas["Local"] == {"$ref": "#/components/schemas/Pet"}
    assert list(data) == ["openapi", "info", "paths", "components"]
    validate(data)


def _doc(**extra: object) -> dict:
    return {"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": {}, **extra}


def _schemes(**schemes: object) -> dict:
    return _doc(components={"securitySchemes": schemes})


@pytest.mark.parametrize(
    ("doc", "expected_parameters", "kinds"),
    [
        pytest.param(
            _schemes(k={"type": "apiKey", "in": "header", "name": "X-Key"}), {"api_key"}, set(), id="apikey"
        ),
        pytest.param(
            _schemes(b={"type": "http", "scheme": "basic"}), {"username", "password"}, set(), id="basic"
        ),
        pytest.param(_schemes(b={"type": "http", "scheme": "bearer"}), {"api_key"}, set(), id="bearer"),
        pytest.param(
            _schemes(
                o={"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://t", "scopes": {}}}}
            ),
            {"token"},
            {"info"},
            id="client-credentials",
        ),
        pytest.param(
            _schemes(
                o={"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://a", "scopes": {}}}}
            ),
            set(),
            {"unsupported"},
            id="implicit",
        ),
        pytest.param(
            _schemes(
                o={"type": "openIdConnect", "openIdConnectUrl": "https://x/.well-known/openid-configuration"}
            ),
            {"token"},
            {"approximation"},
            id="openid-connect",
        ),
    ],
)
def test_security_schemes_become_connection_parameters(tmp_path, doc, expected_parameters, kinds) -> None:
    source = tmp_path / "api.json"
    source.write_text(json.dumps(doc))
    result = import_openapi(source)
    properties = result.package.properties.data["properties"]
    assert set(properties.get("connectionParameters", {})) == expected_parameters
    assert {item.kind for item in result.report} == kinds
    for parameter in properties.get("connectionParameters", {}).values():
        assert parameter["type"] in ("securestring", "oauthSetting")
    assert not [f for f in lint_package(result.package) if f.severity == "error"]


def test_oauth2_authorization_code_shape(tmp_path: Path) -> None:
    flow = {
        "authorizationUrl": "https://a",
        "tokenUrl": "https://t",
        "refreshUrl": "https://r",
        "scopes": {"s": ""},
    }
    source = tmp_path / "api.json"
    source.write_text(json.dumps(_schemes(o={"type": "oauth2", "flows": {"authorizationCode": flow}})))
    token = import_openapi(source).package.properties.data["properties"]["connectionParameters"]["token"]
    settings = token["oAuthSettings"]
    assert token["type"] == "oauthSetting"
    assert settings["identityProvider"] == "oauth2"
    assert settings["redirectMode"] == "GlobalPerConnector"
    assert settings["scopes"] == ["s"]
    assert settings["customParameters"] == {
        "authorizationUrl": {"value": "https://a"},
        "tokenUrl": {"value": "https://t"},
        "refreshUrl": {"value": "https://r"},
    }


def test_several_schemes_become_parameter_sets(tmp_path: Path) -> None:
    source = tmp_path / "api.json"
    source.write_text(
        json.dumps(
            _schemes(k={"type": "apiKey", "in": "query", "name": "k"}, b={"type": "http", "scheme": "basic"})
        )
    )
    result = import_openapi(source)
    sets = result.package.properties.data["properties"]["connectionParameterSets"]
    assert [v["name"] for v in sets["values"]] == ["k", "b"]
    assert not [f for f in lint_package(result.package) if f.severity == "error"]


def test_options_override(tmp_path: Path) -> None:
    source = tmp_path / "api.json"
    source.write_text(json.dumps(_doc()))
    result = import_openapi(source, title="New", description="Desc", brand_color="#123456", icon=b"\x89PNG")
    assert result.package.title == "New"
    assert result.package.definition.data["info"]["description"] == "Desc"
    assert result.package.properties.data["properties"]["iconBrandColor"] == "#123456"
    assert result.package.icon == b"\x89PNG"
    plain = import_openapi(source)
    assert plain.package.properties.data["properties"]["iconBrandColor"] == "#da3b01"


def _ref_doc(ref: str) -> str:
    return json.dumps(
        _doc(components={"schemas": {"A": {"type": "object", "properties": {"b": {"$ref": ref}}}}})
    )


@pytest.mark.parametrize(
    ("name", "content", "error", "words"),
    [
        pytest.param(
            "a.json", '{"hello": "world"}', InputError, ["not an OpenAPI document"], id="not-openapi"
        ),
        pytest.param(
            "a.json", '{"swaggerVersion": "1.2", "apis": []}', InputError, ["'1.2'"], id="swagger-1.2"
        ),
        pytest.param("a.json", '{"openapi": "4.0.0"}', InputError, ["'4.0.0'"], id="openapi-4"),
        pytest.param(
            "a.json", '{"openapi": "3.0.0",\n "info": }', DocumentSyntaxError, ["a.json:2:"], id="json"
        ),
        pytest.param("a.yaml", "openapi: 3.0.0\ninfo: [\n", DocumentSyntaxError, ["a.yaml:"], id="yaml"),
        pytest.param(
            "a.json",
            _ref_doc("#/components/schemas/Nope"),
            InputError,
            ["#/components/schemas/Nope", "/components/schemas/A/properties/b"],
            id="dangling-local-ref",
        ),
        pytest.param("a.json", _ref_doc("missing.yaml#/X"), InputError, ["missing.yaml"], id="missing-file"),
        pytest.param("a.json", _ref_doc("https://example.com/s.json"), InputError, ["URL"], id="url-ref"),
        pytest.param("a.json", _ref_doc("../outside.json"), InputError, ["outside the folder"], id="outside"),
    ],
)
def test_bad_input_is_a_clear_error_and_leaves_nothing(tmp_path, name, content, error, words) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (tmp_path / "outside.json").write_text("{}")
    source = folder / name
    source.write_text(content)
    out = tmp_path / "out"
    with pytest.raises(error) as raised:
        write_package(import_openapi(source).package, out)
    assert isinstance(raised.value, TetherError)
    message = str(raised.value)
    assert name in message
    for word in words:
        assert word in message
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == sorted(["src", "outside.json"]) or not out.exists()


def test_written_package_round_trips(tmp_path: Path) -> None:
    source = SAMPLES / "openapi3" / "uspto.json"
    result = import_openapi(source)
    out = write_package(result.package, tmp_path / "pkg")
    assert json.loads((out / "apiDefinition.swagger.json").read_text()) == _json_model(
        read_document(source).data
    )
    assert json.loads((out / "apiProperties.json").read_text())["properties"]["iconBrandColor"] == "#da3b01"
