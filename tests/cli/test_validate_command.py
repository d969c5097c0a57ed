from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._paths import BROKEN_CORPUS_FILES, CORPUS, EXAMPLE_CONNECTOR, SAMPLES, need
from tests.cli.conftest import Cli
from tether.definition import DEFINITION_FILE


def test_clean_package_exits_zero(cli: Cli) -> None:
    result = cli("validate", str(EXAMPLE_CONNECTOR))
    assert result.exit_code == 0, result.output
    assert "✓" in result.output


def test_certification_profile_finds_more_and_exits_one(cli: Cli) -> None:
    result = cli("validate", str(EXAMPLE_CONNECTOR), "--profile", "certification", "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    [outcome] = report["results"]
    finding = next(f for f in outcome["findings"] if f["rule"] == "certification/https-only")
    assert finding["severity"] == "error"
    assert finding["file"] == str(EXAMPLE_CONNECTOR / DEFINITION_FILE)
    assert finding["pointer"] == "/schemes" and finding["line"] == 11


def test_unreadable_input_exits_two(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"swagger": "2.0",}}')
    result = cli("validate", str(bad), str(tmp_path / "missing"), "--json")
    assert result.exit_code == 2
    errors = [r["error"] for r in json.loads(result.output)["results"]]
    assert errors[0]["code"] == "not-found"
    assert (errors[1]["line"], errors[1]["column"]) == (1, 19)


def test_unknown_profile_is_rejected(cli: Cli) -> None:
    result = cli("validate", str(EXAMPLE_CONNECTOR), "--profile", "strict")
    assert result.exit_code == 2
    assert "unknown profile 'strict'" in result.output


def test_yaml_openapi3_file(cli: Cli) -> None:
    result = cli("validate", str(need(SAMPLES / "openapi3" / "clever-data-api.yaml")), "--json")
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.output)["results"][0]["error"] is None


@pytest.mark.corpus
def test_whole_corpus_validates_without_a_traceback(cli: Cli) -> None:
    result = cli("validate", str(need(CORPUS)), "--json", "--jobs", "2")
    assert "Traceback" not in result.output
    report = json.loads(result.output)
    assert report["summary"]["packages"] == 1034
    unreadable = {r["source"]: r["error"] for r in report["results"] if r["error"]}
    assert sorted(unreadable) == sorted(str(CORPUS / Path(p).parent) for p in BROKEN_CORPUS_FILES)
    for source, error in unreadable.items():
        assert error["code"] == "document-syntax", source
        assert error["message"].startswith(f"{error['file']}:{error['line']}:{error['column']}: invalid JSON")
    crashed = [f for r in report["results"] for f in r["findings"] if f["rule"] == "internal/rule-crashed"]
    assert crashed == []
    assert result.exit_code == 2  # the broken files make the input unusable, as documented
