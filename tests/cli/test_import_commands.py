from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._paths import SAMPLES, need
from tether.cli import app
from tether.definition import load_package


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize(
    ("kind", "sample"),
    [
        pytest.param("openapi", "openapi3/xero-identity.yaml", id="openapi"),
        pytest.param("postman", "postman/realworld-conduit.postman_collection.json", id="postman"),
        pytest.param("wsdl", "wsdl/dneonline-calculator.wsdl", id="wsdl"),
    ],
)
def test_import_writes_a_valid_package_and_reports(kind: str, sample: str, tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    result = _run("import", kind, str(need(SAMPLES / sample)), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["out"] == str(out)
    assert not [f for f in report["lint"] if f["severity"] == "error"]
    assert load_package(out).title == report["title"]
    validated = _run("validate", str(out))
    assert validated.exit_code == 0, validated.output


def test_curl_into_an_existing_package_and_export(tmp_path: Path) -> None:
    created = _run(
        "import", "curl", "curl https://api.example.com/v1/items?limit=5", "--out", str(tmp_path / "p")
    )
    assert created.exit_code == 0, created.output
    added = _run(
        "import",
        "curl",
        'curl -X POST https://api.example.com/v1/items -d \'{"name": "x"}\'',
        "--into",
        str(tmp_path / "p"),
        "--json",
    )
    assert added.exit_code == 0, added.output
    paths = load_package(tmp_path / "p").definition.data["paths"]
    assert set(paths["/v1/items"]) == {"get", "post"}
    exported = _run("export", "powerplatform", str(tmp_path / "p"), "--out", str(tmp_path / "pp"), "--json")
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["report"] == []  # Swagger 2.0 in, nothing lost


def test_bad_input_leaves_nothing_on_disk(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.0\ninfo: [unclosed\n")
    out = tmp_path / "out"
    result = _run("import", "openapi", str(broken), "--out", str(out))
    assert result.exit_code == 2
    assert f"{broken}:" in result.output and "Traceback" not in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [broken]


def test_out_and_into_are_exclusive(tmp_path: Path) -> None:
    result = _run("import", "curl", "curl https://x.example/a")
    assert result.exit_code == 2
    assert "give exactly one of --out DIR" in result.output


def _operation_ids(folder: Path) -> set[str]:
    paths = load_package(folder).definition.data["paths"]
    return {op["operationId"] for item in paths.values() for op in item.values()}


def test_postman_duplicates_merge_by_default_and_keep_duplicates_opts_out(tmp_path: Path) -> None:
    sample = str(need(SAMPLES / "postman" / "newman-multi-level-folders-v2.postman_collection.json"))
    merged = _run("import", "postman", sample, "--out", str(tmp_path / "merged"))
    assert merged.exit_code == 0, merged.output
    assert _operation_ids(tmp_path / "merged") == {"F1R1"}  # six GET /get requests, one action
    # The merge is in the printed report, request by request.
    assert "F2 / F2.R1: shares GET /get with 'F1 / F1.R1': merged into operation 'F1R1'" in merged.output
    kept = _run("import", "postman", sample, "--out", str(tmp_path / "kept"), "--keep-duplicates", "--json")
    assert kept.exit_code == 0, kept.output
    assert len(_operation_ids(tmp_path / "kept")) == 6
    report = json.loads(kept.output)["report"]
    assert not [i for i in report if "merged into operation" in i["message"]]
    assert len([i for i in report if "routed to /get by a policy" in i["message"]]) == 5
    explicit = _run("import", "postman", sample, "--out", str(tmp_path / "explicit"), "--merge-duplicates")
    assert explicit.exit_code == 0, explicit.output
    assert _operation_ids(tmp_path / "explicit") == {"F1R1"}
