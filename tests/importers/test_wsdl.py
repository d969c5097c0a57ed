"""WSDL 1.1 import: the shared samples, exact schemas for known services, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests._paths import SAMPLES, need
from tests.importers._generated import assert_valid
from tether.errors import DocumentSyntaxError, InputError, TetherError
from tether.importers.wsdl import import_wsdl

WSDL_SAMPLES = SAMPLES / "wsdl"
DATA = Path(__file__).parent / "data"
CALCULATOR = WSDL_SAMPLES / "dneonline-calculator.wsdl"
COUNTRY_INFO = WSDL_SAMPLES / "oorsprong-countryinfo.wsdl"
TEMPURI = "http://tempuri.org/"
COUNTRY_NS = "http://www.oorsprong.org/websamples.countryinfo"
STRING = {"type": "string"}
MODES = [pytest.param("soap-to-rest", id="soap-to-rest"), pytest.param("passthrough", id="passthrough")]


def _samples() -> list[Any]:
    files = sorted(WSDL_SAMPLES.glob("*.wsdl")) if WSDL_SAMPLES.exists() else []
    return [pytest.param(f, id=f.stem) for f in files] or [pytest.param(WSDL_SAMPLES / "absent", id="absent")]


def _operation(definition: dict[str, Any], path: str) -> dict[str, Any]:
    return definition["paths"][path]["post"]


def _body(operation: dict[str, Any]) -> dict[str, Any]:
    return operation["parameters"][0]["schema"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", _samples())
def test_every_sample_imports_in_both_modes(path: Path, mode: str) -> None:
    result = import_wsdl(need(path), mode=mode)  # type: ignore[arg-type]
    assert_valid(result.package)
    definition = result.package.definition.data
    root = definition["x-tether-soap"]
    assert definition["host"] and root["address"].startswith(
        f"{definition['schemes'][0]}://{definition['host']}"
    )
    assert root["mode"] == mode and root["soapVersion"] == "1.1"
    assert definition["paths"]
    for path_key, item in definition["paths"].items():
        operation = item["post"]
        assert path_key == f"/{root['service']}/{root['port']}/{operation['x-tether-soap']['operation']}"
        assert operation["x-tether-soap"]["address"] == root["address"]
        assert operation["x-tether-soap"]["inputElement"].startswith("{")
        if mode == "passthrough":
            assert _body(operation) == STRING and operation["responses"]["200"]["schema"] == STRING
    if mode == "passthrough":
        assert definition["consumes"] == definition["produces"] == ["text/xml"]
        assert "definitions" not in definition


def test_calculator_add_schemas_and_soap_facts() -> None:
    result = import_wsdl(need(CALCULATOR))
    definition = result.package.definition.data
    assert (definition["host"], definition["basePath"], definition["schemes"]) == (
        "www.dneonline.com",
        "/calculator.asmx",
        ["http"],
    )
    add = _operation(definition, "/Calculator/CalculatorSoap/Add")
    integer = {"type": "integer", "format": "int32"}
    assert _body(add) == {
        "type": "object",
        "properties": {"intA": integer, "intB": integer},
        "required": ["intA", "intB"],
    }
    assert add["parameters"][0]["required"] is True
    assert add["responses"]["200"]["schema"] == {
        "type": "object",
        "properties": {"AddResult": integer},
        "required": ["AddResult"],
    }
    assert add["operationId"] == "Add" and add["description"].startswith("Adds two integers.")
    assert add["x-tether-soap"] == {
        "operation": "Add",
        "binding": f"{{{TEMPURI}}}CalculatorSoap",
        "soapVersion": "1.1",
        "soapAction": "http://tempuri.org/Add",
        "style": "document",
        "use": "literal",
        "namespace": TEMPURI,
        "inputElement": f"{{{TEMPURI}}}Add",
        "outputElement": f"{{{TEMPURI}}}AddResponse",
        "address": "http://www.dneonline.com/calculator.asmx",
    }
    assert sorted(op["post"]["operationId"] for op in definition["paths"].values()) == [
        "Add",
        "Divide",
        "Multiply",
        "Subtract",
    ]
    assert [(item.kind, item.where) for item in result.report] == [("info", "/Calculator/CalculatorSoap12")]


def test_soap12_port_on_request() -> None:
    for mode, media in (("soap-to-rest", "application/json"), ("passthrough", "application/soap+xml")):
        result = import_wsdl(need(CALCULATOR), mode=mode, port="CalculatorSoap12")  # type: ignore[arg-type]
        assert_valid(result.package)
        definition = result.package.definition.data
        assert definition["consumes"] == [media]
        add = _operation(definition, "/Calculator/CalculatorSoap12/Add")
        assert add["x-tether-soap"]["soapVersion"] == "1.2"
        assert definition["x-tether-soap"]["port"] == "CalculatorSoap12"


def test_country_info_schemas() -> None:
    definition = import_wsdl(need(COUNTRY_INFO)).package.definition.data
    code = _operation(definition, "/CountryInfoService/CountryInfoServiceSoap/CountryISOCode")
    assert _body(code) == {
        "type": "object",
        "properties": {"sCountryName": STRING},
        "required": ["sCountryName"],
    }
    assert code["responses"]["200"]["schema"] == {
        "type": "object",
        "properties": {"CountryISOCodeResult": STRING},
        "required": ["CountryISOCodeResult"],
    }
    full = _operation(definition, "/CountryInfoService/CountryInfoServiceSoap/FullCountryInfo")
    assert _body(full) == {
        "type": "object",
        "properties": {"sCountryISOCode": STRING},
        "required": ["sCountryISOCode"],
    }
    assert full["responses"]["200"]["schema"] == {
        "type": "object",
        "properties": {"FullCountryInfoResult": {"$ref": "#/definitions/tCountryInfo"}},
        "required": ["FullCountryInfoResult"],
    }
    fields = ["sISOCode", "sName", "sCapitalCity", "sPhoneCode", "sContinentCode", "sCurrencyISOCode"]
    assert definition["definitions"]["tCountryInfo"] == {
        "type": "object",
        "properties": {
            **{name: STRING for name in fields},
            "sCountryFlag": STRING,
            "Languages": {"$ref": "#/definitions/ArrayOftLanguage"},
        },
        "required": [*fields, "sCountryFlag", "Languages"],
    }
    assert definition["definitions"]["ArrayOftLanguage"] == {
        "type": "object",
        "properties": {"tLanguage": {"type": "array", "items": {"$ref": "#/definitions/tLanguage"}}},
    }
    assert definition["definitions"]["tLanguage"] == {
        "type": "object",
        "properties": {"sISOCode": STRING, "sName": STRING},
        "required": ["sISOCode", "sName"],
    }
    every = _operation(definition, "/CountryInfoService/CountryInfoServiceSoap/FullCountryInfoAllCountries")
    assert _body(every) == {"type": "object", "properties": {}}
    assert every["parameters"][0]["required"] is False
    assert every["x-tether-soap"]["outputElement"] == f"{{{COUNTRY_NS}}}FullCountryInfoAllCountriesResponse"


def test_http_bindings_are_reported_and_skipped() -> None:
    path = need(WSDL_SAMPLES / "w3schools-tempconvert.wsdl")
    result = import_wsdl(path)
    assert ("unsupported", "/TempConvert/TempConvertHttpPost") in [(i.kind, i.where) for i in result.report]
    assert all("/TempConvertHttpPost/" not in p for p in result.package.definition.data["paths"])
    with pytest.raises(InputError, match="HTTP binding"):
        import_wsdl(path, port="TempConvertHttpPost")


def test_xsd_constructs() -> None:
    result = import_wsdl(DATA / "rich.wsdl")
    assert_valid(result.package)
    definition = result.package.definition.data
    assert (definition["host"], definition["basePath"], definition["schemes"]) == (
        "shop.example.com:8443",
        "/soap/shop",
        ["https"],
    )
    order = _operation(definition, "/Shop/ShopSoap/PlaceOrder")
    assert _body(order)["properties"]["items"] == {
        "type": "array",
        "items": {"$ref": "#/definitions/SpecialItem"},
    }
    assert _body(order)["properties"]["extra"] == {"type": "object", "properties": {"_value_1": {}}}
    assert order["responses"]["200"]["schema"]["properties"]["raw"] == {"type": "string", "format": "byte"}
    assert order["x-tether-soap"]["inputHeaders"] == ["{urn:shop}Auth"]
    item = definition["definitions"]["Item"]["properties"]
    assert item["colour"] == {"type": "string", "enum": ["red", "green"]}
    assert item["sku"] == {"type": "string", "pattern": "^(?:[A-Z]{3}-\\d+)$", "maxLength": 12}
    assert item["quantity"] == {
        "type": "integer",
        "format": "int32",
        "minimum": 1,
        "maximum": 100,
        "exclusiveMaximum": True,
        "default": 1,
    }
    assert item["size"] == {"type": "string", "enum": ["S", "L"]}
    assert item["tags"] == {"type": "array", "items": STRING}
    assert item["when"] == {"type": "string", "format": "date-time", "x-nullable": True}
    assert item["parts"] == {"type": "array", "items": {"$ref": "#/definitions/Item"}, "maxItems": 5}
    assert item["id"] == {"type": "integer", "format": "int64"}
    assert definition["definitions"]["Item"]["required"] == ["sku", "quantity", "price", "when", "size"]
    assert definition["definitions"]["Price"] == {
        "type": "object",
        "properties": {"_value_1": {"type": "number"}, "currency": STRING},
        "required": ["_value_1", "currency"],
    }
    special = definition["definitions"]["SpecialItem"]
    assert list(special["properties"])[-2:] == ["note", "id"] and "note" in special["required"]
    kinds = {(i.kind, i.message.split(";")[0]) for i in result.report}
    assert ("approximation", "xsd:choice alternatives are all optional in JSON") in kinds
    assert any(i.kind == "unsupported" and "SOAP headers" in i.message for i in result.report)


def test_rpc_encoded_soap12_service() -> None:
    result = import_wsdl((DATA / "rpc.wsdl").read_bytes(), name="rpc.wsdl")
    assert_valid(result.package)
    definition = result.package.definition.data
    lookup = _operation(definition, "/Legacy/LegacySoap12/Lookup")
    assert _body(lookup) == {
        "type": "object",
        "properties": {"name": STRING, "limit": {"type": "integer", "format": "int32"}},
        "required": ["name", "limit"],
    }
    assert definition["definitions"]["StringArray"] == {"type": "array", "items": STRING}
    facts = lookup["x-tether-soap"]
    assert (facts["style"], facts["use"], facts["soapVersion"]) == ("rpc", "encoded", "1.2")
    assert facts["inputElement"] == "{urn:legacy}Lookup"


def test_local_imports_are_read_next_to_a_wsdl_file(tmp_path: Path) -> None:
    calculator = need(CALCULATOR).read_text()
    start, end = calculator.index("<s:schema"), calculator.index("</s:schema>") + len("</s:schema>")
    schema = calculator[start:end].replace(
        "<s:schema", '<s:schema xmlns:s="http://www.w3.org/2001/XMLSchema"', 1
    )
    (tmp_path / "types.xsd").write_text(schema)
    stub = '<s:schema><s:import namespace="http://tempuri.org/" schemaLocation="types.xsd"/></s:schema>'
    (tmp_path / "calc.wsdl").write_text(calculator[:start] + stub + calculator[end:])
    result = import_wsdl(tmp_path / "calc.wsdl")
    assert_valid(result.package)
    assert "/Calculator/CalculatorSoap/Add" in result.package.definition.data["paths"]
    with pytest.raises(InputError, match="give the WSDL as a file path"):
        import_wsdl((tmp_path / "calc.wsdl").read_bytes())


WSDL_HEAD = (
    '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:http="http://schemas.xmlsoap.org/wsdl/http/" xmlns:tns="urn:t" targetNamespace="urn:t">'
)
BAD_INPUT = [
    pytest.param(b"hello, world", DocumentSyntaxError, "not XML", id="not-xml"),
    pytest.param(b"", DocumentSyntaxError, "service.wsdl:1:1", id="empty"),
    pytest.param(
        b'<definitions xmlns="http://schemas.xmlsoap.org/wsdl/">\n  <types>\n</definitions>',
        DocumentSyntaxError,
        "service.wsdl:3:",
        id="broken-xml",
    ),
    pytest.param(b"<note><to>you</to></note>", InputError, "not a WSDL 1.1 <definitions>", id="not-wsdl"),
    pytest.param(b'<description xmlns="http://www.w3.org/ns/wsdl"/>', InputError, "WSDL 2.0", id="wsdl-2.0"),
    pytest.param(
        WSDL_HEAD.encode() + b'<types><xs:schema targetNamespace="urn:t"><xs:import namespace="urn:x" '
        b'schemaLocation="http://127.0.0.1:9/x.xsd"/></xs:schema></types></definitions>',
        InputError,
        "never fetches",
        id="xsd-import-url",
    ),
    pytest.param(
        WSDL_HEAD.encode()
        + b'<import namespace="urn:y" location="https://127.0.0.1:9/y.wsdl"/></definitions>',
        InputError,
        "never fetches",
        id="wsdl-import-url",
    ),
    pytest.param(
        WSDL_HEAD.encode()
        + b'<portType name="P"/><binding name="B" type="tns:P"><http:binding verb="GET"/></binding>'
        b'<service name="S"><port name="H" binding="tns:B"><http:address location="http://x.test/"/>'
        b"</port></service></definitions>",
        InputError,
        "no SOAP 1.1 or 1.2 port",
        id="http-only",
    ),
    pytest.param(
        b'<!DOCTYPE definitions [<!ENTITY x "boom">]>' + WSDL_HEAD.encode() + b"&x;</definitions>",
        InputError,
        "entities",
        id="entity",
    ),
]


@pytest.mark.parametrize(("content", "error", "message"), BAD_INPUT)
def test_bad_input_is_a_clear_error(content: bytes, error: type[TetherError], message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        import_wsdl(content)
    assert "Traceback" not in caught.value.message


def test_broken_xml_names_line_and_column() -> None:
    with pytest.raises(DocumentSyntaxError) as caught:
        import_wsdl(b"<definitions>\n  <a>\n  </b>\n</definitions>", name="x.wsdl")
    assert (caught.value.file, caught.value.line) == ("x.wsdl", 3) and caught.value.column > 1


def test_unknown_mode_port_and_service() -> None:
    with pytest.raises(InputError, match="unknown WSDL import mode"):
        import_wsdl(b"<x/>", mode="rest")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no SOAP port named 'Nope'"):
        import_wsdl(need(CALCULATOR), port="Nope")
    with pytest.raises(InputError, match="no service named 'Nope'"):
        import_wsdl(need(CALCULATOR), service="Nope")
