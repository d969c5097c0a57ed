"""tether export powerplatform checks its output on real files: what Power Platform refuses is
converted and reported, what stays invalid or too big is an error, and --split makes parts that fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV2SpecValidator, validate
from typer.testing import CliRunner

from tests._paths import CORPUS, need
from tether.cli import app
from tether.definition import load_package
from tether.errors import InputError
from tether.importers import export_powerplatform, import_openapi

DATA = Path(__file__).parent / "data"
CERTIFIED = CORPUS / "certified-connectors"


def _export(path: Path, **options):
    return export_powerplatform(import_openapi(path).package, strict=True, **options)


def test_4xx_response_keys_become_default() -> None:
    result = _export(DATA / "cloudflare-delete-token.json")
    data = result.package.definition.data
    responses = data["paths"]["/user/tokens/{token_id}"]["delete"]["responses"]
    assert set(responses) == {"200", "default"}
    assert responses["default"]["description"] == "Delete Token response failure"
    validate(data, cls=OpenAPIV2SpecValidator)
    assert any(i.where.endswith("/responses/4XX") and "default" in i.message for i in result.report)


def test_refs_inside_extensions_and_duplicate_required_are_removed(tmp_path: Path) -> None:
    doc = json.loads((DATA / "azure-textanalytics-v3.0-keyphrases.json").read_text())
    doc["definitions"]["MultiLanguageInput"]["required"] = ["id", "text", "id"]
    source = tmp_path / "api.json"
    source.write_text(json.dumps(doc))
    result = _export(source)
    data = result.package.definition.data
    assert "x-ms-examples" not in data["paths"]["/keyPhrases"]["post"]
    assert data["definitions"]["MultiLanguageInput"]["required"] == ["id", "text"]
    validate(data, cls=OpenAPIV2SpecValidator)
    wheres = {i.where for i in result.report if i.kind == "approximation"}
    assert {"/paths/~1keyPhrases/post/x-ms-examples", "/definitions/MultiLanguageInput/required"} <= wheres


def test_an_export_that_stays_invalid_exits_non_zero_and_writes_nothing(tmp_path: Path) -> None:
    connector = need(CERTIFIED / "USB4SAP")  # writes `basepath`, which Swagger 2.0 does not have
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["export", "powerplatform", str(connector), "--out", str(out)])
    assert run.exit_code != 0
    assert "'basepath' was unexpected" in run.output and "not valid Swagger 2.0" in run.output
    assert not out.exists()


def test_over_1mb_is_an_error_unless_allowed() -> None:
    package = load_package(need(CERTIFIED / "Encodian"))  # 1.1 MB, certified
    with pytest.raises(InputError, match="1 MB"):
        export_powerplatform(package, strict=True)
    result = export_powerplatform(package, strict=True, allow_oversize=True)
    assert any("--allow-oversize" in i.message for i in result.report if i.kind == "warning")


def test_split_by_tag_makes_connectors_that_fit(tmp_path: Path) -> None:
    connector = need(CERTIFIED / "Encodian")
    out = tmp_path / "parts"
    args = ["export", "powerplatform", str(connector), "--out", str(out), "--split", "100"]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    parts = sorted(out.iterdir())
    assert len(parts) >= 3
    total = 0
    for part in parts:
        raw = (part / "apiDefinition.swagger.json").read_bytes()
        assert len(raw) <= 1024 * 1024
        data = json.loads(raw)
        methods = ("get", "post", "put", "delete", "patch")
        count = sum(1 for item in data["paths"].values() for m in item if m in methods)
        assert 0 < count <= 100
        total += count
        export_powerplatform(load_package(part), strict=True)  # each part passes the same checks
    assert total == 219
