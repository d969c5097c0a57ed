"""WSDL import on real services with broken parts: an undefined message, an unreadable schema
import, and a port chosen with --port (the calculator at dneonline.com, from ../shared)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._paths import SAMPLES, need
from tether.cli import app
from tether.errors import InputError
from tether.importers import import_wsdl

CALCULATOR = SAMPLES / "wsdl" / "dneonline-calculator.wsdl"
SCHEMA = '<s:schema elementFormDefault="unqualified" targetNamespace="http://tempuri.org/">'


def _variant(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = need(CALCULATOR).read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "calculator.wsdl"
    path.write_text(text)
    return path


def _operations(result) -> set[str]:
    paths = result.package.definition.data["paths"]
    return {op["operationId"] for item in paths.values() for op in item.values()}


def test_an_undefined_message_leaves_out_its_operation_and_says_so(tmp_path: Path) -> None:
    source = _variant(tmp_path, ('message="tns:AddSoapIn"', 'message="tns:NoSuchMessage"'))
    result = import_wsdl(source, name=str(source))
    assert "Add" not in _operations(result) and {"Subtract", "Multiply", "Divide"} <= _operations(result)
    warnings = [i.message for i in result.report if i.kind == "warning"]
    assert any("'Add'" in m and "'tns:NoSuchMessage'" in m for m in warnings), warnings


def test_every_operation_broken_is_an_error_naming_the_messages(tmp_path: Path) -> None:
    text = need(CALCULATOR).read_text()
    operations = ("Add", "Subtract", "Multiply", "Divide")
    replacements = [(f'message="tns:{op}SoapIn"', 'message="tns:Gone"') for op in operations]
    source = _variant(tmp_path, *[r for r in replacements if r[0] in text])
    with pytest.raises(InputError, match="'tns:Gone'"):
        import_wsdl(source, name=str(source))


def test_an_unreadable_schema_import_is_named_and_the_rest_imported(tmp_path: Path) -> None:
    imported = '<s:import namespace="http://tempuri.org/extra" schemaLocation="extra-types.xsd"/>'
    source = _variant(tmp_path, (SCHEMA, SCHEMA + imported))
    result = import_wsdl(source, name=str(source))
    assert {"Add", "Subtract"} <= _operations(result)
    assert any("extra-types.xsd" in i.message and "imported without it" in i.message for i in result.report)


def test_an_operation_using_an_unreadable_schema_is_left_out_and_named(tmp_path: Path) -> None:
    imported = '<s:import namespace="http://tempuri.org/extra" schemaLocation="extra-types.xsd"/>'
    source = _variant(
        tmp_path,
        (SCHEMA, SCHEMA + imported),
        ('<wsdl:part name="parameters" element="tns:Add" />',
         '<wsdl:part xmlns:x="http://tempuri.org/extra" name="parameters" element="x:Thing" />'),
    )  # fmt: skip
    result = import_wsdl(source, name=str(source))
    assert "Add" not in _operations(result) and "Subtract" in _operations(result)
    messages = [i.message for i in result.report if i.kind == "warning"]
    assert any("extra-types.xsd" in m for m in messages) and any("'Add'" in m for m in messages)
    assert len(messages) == len(set(messages))


def test_port_option_chooses_the_port(tmp_path: Path) -> None:
    out = tmp_path / "c"
    run = CliRunner().invoke(
        app, ["import", "wsdl", str(need(CALCULATOR)), "--out", str(out), "--port", "CalculatorSoap12"]
    )
    assert run.exit_code == 0, run.output
    assert "--port CalculatorSoap" in run.output
    assert "soap12" in (out / "apiDefinition.swagger.json").read_text().lower()
    bad = CliRunner().invoke(
        app, ["import", "wsdl", str(CALCULATOR), "--out", str(tmp_path / "d"), "--port", "Nope"]
    )
    assert bad.exit_code != 0 and "no SOAP port named 'Nope'" in bad.output
