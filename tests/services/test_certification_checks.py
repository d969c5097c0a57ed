"""The packaging rules of certification, each with its rule id and location (pure: no server)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.governance._kit import README, definition, package_zip, png, properties
from tether.definition import package_from_zip
from tether.services._certification_checks import MAX_ICON_BYTES, blocking, run_checks


def _rules(
    doc: dict[str, Any], props: dict[str, Any], icon: bytes | None, readme: str = README
) -> set[tuple[str, str, str]]:
    package = package_from_zip(package_zip(doc, props, icon))
    return {(f.rule, f.file.rsplit("/", 1)[-1], f.pointer) for f in blocking(run_checks(package, readme))}


def test_the_certifiable_greeter_passes_every_rule() -> None:
    assert _rules(definition("api.example.test"), properties(), png(230, 230)) == set()


@pytest.mark.parametrize(
    ("icon", "rule"),
    [
        pytest.param(None, "packaging/icon-missing", id="missing"),
        pytest.param(b"GIF89a" + bytes(40), "packaging/icon-not-png", id="not-png"),
        pytest.param(png(100, 60), "packaging/icon-not-square", id="not-square"),
        pytest.param(png(16, 16) + bytes(MAX_ICON_BYTES), "packaging/icon-too-large", id="over-1-mb"),
    ],
)
def test_icon_rules(icon: bytes | None, rule: str) -> None:
    assert _rules(definition("api.example.test"), properties(), icon) == {(rule, "icon.png", "")}


@pytest.mark.parametrize(
    ("colour", "rule", "pointer"),
    [
        pytest.param(None, "properties/missing-brand-color", "/properties", id="missing"),
        pytest.param("blue", "properties/invalid-brand-color", "/properties/iconBrandColor", id="not-hex"),
        pytest.param(
            "#FFFFFF", "certification/brand-color-default", "/properties/iconBrandColor", id="white"
        ),
        pytest.param(
            "#f8faf9", "packaging/brand-color-white", "/properties/iconBrandColor", id="nearly-white"
        ),
    ],
)
def test_brand_colour_rules(colour: str | None, rule: str, pointer: str) -> None:
    found = _rules(definition("api.example.test"), properties(iconBrandColor=colour), png(8, 8))
    assert found == {(rule, "apiProperties.json", pointer)}


def test_metadata_and_readme_rules() -> None:
    doc = definition("api.example.test")
    doc["info"]["contact"] = {"name": "Someone"}  # no way to reach them
    doc["x-ms-connector-metadata"] = [{"propertyName": "Website", "propertyValue": "https://example.test"}]
    assert _rules(doc, properties(), png(8, 8), readme="Short.") == {
        ("packaging/contact-missing", "apiDefinition.swagger.json", "/info/contact"),
        ("packaging/privacy-policy-missing", "apiDefinition.swagger.json", "/x-ms-connector-metadata"),
        ("packaging/readme-missing", "readme.md", ""),
    }


def test_documentation_warnings_of_the_linter_block_certification() -> None:
    doc = definition("api.example.test")
    del doc["paths"]["/status"]["get"]["responses"]["200"]["schema"]
    assert _rules(doc, properties(), png(8, 8)) == {
        (
            "certification/response-schema-missing",
            "apiDefinition.swagger.json",
            "/paths/~1status/get/responses/200",
        ),
        ("certification/unused-definition", "apiDefinition.swagger.json", "/definitions/Status"),
    } - {("certification/unused-definition", "apiDefinition.swagger.json", "/definitions/Status")}
