from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from tests._paths import EXAMPLE_CONNECTOR
from tether.definition import (
    DEFINITION_FILE,
    PROPERTIES_FILE,
    SETTINGS_FILE,
    load_package,
    package_from_files,
    package_from_zip,
    paconn_settings,
    save_package,
)
from tether.errors import DocumentSyntaxError, PackageError


def test_loads_a_paconn_folder() -> None:
    package = load_package(EXAMPLE_CONNECTOR)
    assert package.title == "Sentiment Analysis"
    assert package.properties is not None
    assert package.properties.data["properties"]["iconBrandColor"] == "#da3b01"
    assert package.definition.name == str(EXAMPLE_CONNECTOR / DEFINITION_FILE)


def test_save_keeps_bytes_and_key_order(tmp_path: Path) -> None:
    package = load_package(EXAMPLE_CONNECTOR)
    save_package(package, tmp_path / "out")
    for name in (DEFINITION_FILE, PROPERTIES_FILE):
        assert (tmp_path / "out" / name).read_bytes() == (EXAMPLE_CONNECTOR / name).read_bytes()
    reloaded = load_package(tmp_path / "out")
    assert reloaded.semantically_equal(package)
    assert list(reloaded.definition.data) == list(package.definition.data)


def test_settings_json_names_the_files_as_paconn_does(tmp_path: Path) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "my.swagger.json").write_bytes((EXAMPLE_CONNECTOR / DEFINITION_FILE).read_bytes())
    (tmp_path / "props.json").write_bytes((EXAMPLE_CONNECTOR / PROPERTIES_FILE).read_bytes())
    (tmp_path / "Script.csx").write_text("public class Script : ScriptBase {}")
    settings = tmp_path / SETTINGS_FILE
    settings.write_text(
        json.dumps(
            {
                "connectorId": "abc",
                "environment": "default",
                "apiDefinition": "defs/my.swagger.json",
                "apiProperties": "props.json",
                "script": "Script.csx",
            }
        )
    )
    package = load_package(settings=settings)
    assert package.title == "Sentiment Analysis"
    assert package.properties is not None
    assert "script.csx" in package.files
    assert any("C# custom code is kept but not run" in w for w in package.warnings)


def test_settings_naming_a_missing_definition_is_a_clear_error(tmp_path: Path) -> None:
    settings = tmp_path / SETTINGS_FILE
    settings.write_text(json.dumps({"apiDefinition": "nope.json"}))
    with pytest.raises(PackageError, match=r"apiDefinition names 'nope\.json', which does not exist"):
        load_package(settings=settings)


def test_single_yaml_definition_is_a_package(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: Pets, version: '1'}\npaths: {}\n")
    package = load_package(spec)
    assert package.definition.format == "yaml"
    assert package.properties is None
    assert package.title == "Pets"


def test_zip_round_trip_and_nested_folder() -> None:
    package = load_package(EXAMPLE_CONNECTOR)
    assert package_from_zip(package.to_zip()).semantically_equal(package)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in package.files.items():
            archive.writestr(f"MyConnector/{name}", content)
        archive.writestr("__MACOSX/._junk", b"x")
    assert package_from_zip(buffer.getvalue()).semantically_equal(package)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param({PROPERTIES_FILE: b"{}"}, "apiDefinition.swagger.json is missing", id="no-definition"),
        pytest.param(
            {DEFINITION_FILE: b"{}", "evil.sh": b""}, "unexpected file(s) evil.sh", id="unknown-file"
        ),
    ],
)
def test_bad_packages_say_what_is_wrong(files: dict[str, bytes], message: str) -> None:
    with pytest.raises(PackageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        package_from_files(files, source="upload")


def test_bad_json_in_a_package_names_the_file() -> None:
    with pytest.raises(DocumentSyntaxError, match=r"^upload/apiProperties.json:1:6"):
        package_from_files({DEFINITION_FILE: b"{}", PROPERTIES_FILE: b'{"a" 1}'}, source="upload")


def test_not_a_zip() -> None:
    with pytest.raises(PackageError, match="not a zip archive"):
        package_from_zip(b"hello", source="x.zip")


def test_paconn_settings_shape() -> None:
    settings = paconn_settings(
        connector_id="c1", environment="default", files={DEFINITION_FILE: b"", PROPERTIES_FILE: b""}
    )
    assert settings == {
        "connectorId": "c1",
        "environment": "default",
        "apiDefinition": DEFINITION_FILE,
        "apiProperties": PROPERTIES_FILE,
    }
