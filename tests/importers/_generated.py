"""Checks every generated package must pass (WSDL, cURL and sample importers)."""

from __future__ import annotations

from openapi_spec_validator import validate

from tether.definition import ConnectorPackage
from tether.definition.lint import lint_package


def assert_valid(package: ConnectorPackage) -> None:
    """Swagger 2.0 valid and no error-level lint finding."""
    validate(package.definition.data)
    errors = [str(f) for f in lint_package(package) if f.severity == "error"]
    assert not errors, errors


def package_bytes(package: ConnectorPackage) -> bytes:
    """Every file of the package, for grepping secrets."""
    return b"\n".join(package.files.values())
