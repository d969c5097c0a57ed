"""import openapi on real public files: --fix repairs without moving what is there, $refs read as tools do.

Every OpenAPI/Swagger file in ../shared and in tests/importers/data is imported with --fix; each
must end with a document openapi-spec-validator accepts or with an InputError naming the place.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from typer.testing import CliRunner

from tests._paths import SAMPLES, SPECS
from tether.cli import app
from tether.definition import read_document
from tether.errors import InputError
from tether.importers._openapi import import_openapi
from tether.importers._validate import spec_problems

DATA = Path(__file__).parent / "data"
HTTPBIN = SPECS / "httpbin" / "spec.json"
AZURE = DATA / "azure-textanalytics-v3.0-keyphrases.json"
PETSTORE = DATA / "go-openapi-simplepetstore.json"
REAL_FILES = sorted(
    [*(SAMPLES / "openapi3").glob("*"), *(SAMPLES / "swagger2").glob("*"), *SPECS.glob("*/*.json")]
    + [p for p in DATA.glob("*") if p.suffix in (".json", ".yaml") and "openapi" in p.read_text()[:400]]
    + [p for p in DATA.glob("*.json") if '"swagger"' in p.read_text()[:400]]
)


@pytest.mark.parametrize("source", [pytest.param(p, id=p.name) for p in REAL_FILES])
def test_fix_ends_valid_or_names_the_place(source: Path) -> None:
    try:
        result = import_openapi(source, fix=True)
    except InputError as exc:
        assert "/" in str(exc), f"an unfixable file names the location: {exc}"
        return
    validate(result.package.definition.data)
    assert not [i for i in result.report if "could not check" in i.message], [str(i) for i in result.report]


def test_cli_fix_on_httpbin_exits_zero(tmp_path: Path) -> None:
    run = CliRunner().invoke(app, ["import", "openapi", str(HTTPBIN), "--out", str(tmp_path / "c"), "--fix"])
    assert run.exit_code == 0, run.output
    assert "internal error" not in run.output
    assert "tether validate: 0 error(s)" in run.output


def _parameters(data: dict) -> dict[tuple[str, str, int], dict]:
    found = {}
    for path, item in data["paths"].items():
        for method, operation in item.items():
            listed = operation.get("parameters", []) if isinstance(operation, dict) else []
            if method.startswith("x-"):
                continue  # `trace` is not Swagger 2.0: --fix keeps it as x-trace
            for index, parameter in enumerate(listed):
                found[(path, method, index)] = parameter
    return found


def test_fix_never_moves_in_name_or_type_and_adds_what_is_missing() -> None:
    before = _parameters(read_document(HTTPBIN).data)
    after = _parameters(import_openapi(HTTPBIN, fix=True).package.definition.data)
    assert len(after) > 60
    for key, fixed in after.items():
        parameter = before.get(key)
        if parameter is None:  # a path parameter the template has and the operation did not declare
            assert fixed["in"] == "path" and fixed["required"] is True and fixed["type"] == "string", key
            continue
        assert fixed["in"] == parameter["in"] and fixed["name"] == parameter["name"], key
        assert not {"x-in", "x-name", "x-type"} & set(fixed), key
        if parameter["in"] == "path":
            assert fixed["required"] is True, key
        assert fixed["type"] in ("string", "integer", "number", "boolean", "array", "file"), key
        if parameter.get("type") in ("string", "integer", "number"):
            assert fixed["type"] == parameter["type"], key
    # httpbin writes `type: int`; it is read as integer, not moved away.
    assert after[("/bytes/{n}", "get", 0)]["type"] == "integer"
    # A header written with no type at all gets `type: string`.
    assert after[("/cache", "get", 0)]["type"] == "string"


def test_a_validator_exception_is_a_finding_not_a_crash() -> None:
    data = copy.deepcopy(read_document(HTTPBIN).data)
    del data["paths"]["/bytes/{n}"]["get"]["parameters"][0]["in"]  # openapi-spec-validator: KeyError 'in'
    problems = spec_problems(data)
    crashes = [p for p in problems if p.origin == "crash"]
    assert crashes and "KeyError" in crashes[0].message
    assert crashes[0].pointer.startswith("/paths/~1bytes~1{n}/get")
    assert len(problems) > len(crashes), "validation goes on past the crash"


def test_problems_inside_shared_parameters_and_schemas_are_fixed_where_written(tmp_path: Path) -> None:
    data = json.loads(AZURE.read_text())
    data["definitions"]["MultiLanguageInput"]["required"] = ["id", "text", "id"]
    since = {"name": "since", "in": "query", "type": "string", "format": "date", "default": ""}
    data["parameters"] = {"since": since}
    data["paths"]["/keyPhrases"]["post"]["parameters"].append({"$ref": "#/parameters/since"})
    source = tmp_path / "api.json"
    source.write_text(json.dumps(data))
    result = import_openapi(source, fix=True)
    out = result.package.definition.data
    validate(out)
    assert out["definitions"]["MultiLanguageInput"]["required"] == ["id", "text"]
    assert "default" not in out["parameters"]["since"]
    assert out["paths"]["/keyPhrases"]["post"]["parameters"][-1] == {"$ref": "#/parameters/since"}
    fixes = {i.where for i in result.report if i.kind == "fix"}
    assert {"/definitions/MultiLanguageInput/required", "/parameters/since/default"} <= fixes


@pytest.mark.parametrize(
    ("version", "schema", "expected"),
    [
        pytest.param("3.1.0", {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
                     {"type": "integer", "exclusiveMinimum": 0}, id="3.0-form-in-3.1"),
        pytest.param("3.0.3", {"type": "number", "exclusiveMaximum": 10},
                     {"type": "number", "maximum": 10, "exclusiveMaximum": True}, id="3.1-form-in-3.0"),
    ],
)  # fmt: skip
def test_fix_keeps_exclusive_bounds_across_versions(tmp_path: Path, version, schema, expected) -> None:
    source = tmp_path / "api.json"
    doc = {"openapi": version, "info": {"title": "T", "version": "1"}, "paths": {},
           "components": {"schemas": {"Score": schema}}}  # fmt: skip
    source.write_text(json.dumps(doc))
    out = import_openapi(source, fix=True).package.definition.data
    validate(out)
    assert out["components"]["schemas"]["Score"] == expected


def test_bare_ref_names_in_swagger2_are_definitions() -> None:
    result = import_openapi(PETSTORE)
    data = result.package.definition.data
    assert data["definitions"]["petInput"]["allOf"][0] == {"$ref": "#/definitions/pet"}
    validate(data)
    assert any("bare name 'pet'" in i.message for i in result.report)


def test_unresolved_refs_inside_extensions_are_warnings() -> None:
    result = import_openapi(AZURE)
    warnings = [i for i in result.report if i.kind == "warning" and "x-ms-examples" in i.where]
    assert any(
        "SuccessfulKeyPhrasesRequest.json" in i.message and "as written" in i.message for i in warnings
    )
    example = result.package.definition.data["paths"]["/keyPhrases"]["post"]["x-ms-examples"]
    assert example["Successful Key Phrase request"]["$ref"] == ".//examples//SuccessfulKeyPhrasesRequest.json"
    validate(result.package.definition.data)


def test_dangling_internal_ref_is_an_error_and_with_fix_an_empty_schema(tmp_path: Path) -> None:
    data = json.loads(PETSTORE.read_text())
    del data["definitions"]["errorModel"]  # every error response now points at nothing
    source = tmp_path / "api.json"
    source.write_text(json.dumps(data))
    with pytest.raises(InputError, match="#/definitions/errorModel"):
        import_openapi(source)
    result = import_openapi(source, fix=True)
    out = result.package.definition.data
    validate(out)
    assert out["paths"]["/pets"]["post"]["responses"]["default"]["schema"] == {}
    assert any("#/definitions/errorModel" in i.message and i.kind == "fix" for i in result.report)
