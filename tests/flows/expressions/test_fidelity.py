"""Issue 13, "Expressions": each behaviour that differed from the Logic Apps runtime.

XML cases come from Newtonsoft.Json's own test suite (the converter behind Logic Apps' ``xml()`` and
``json(xml())``), copied into ``tests/flows/data/newtonsoft-xml-cases.json`` (source and licence in
``tests/flows/data/README.md``); the others pin the documented .NET behaviour bullet by bullet.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tether.flows.expressions import (
    ExpressionError,
    ExpressionEvaluationError,
    context_from_json,
    evaluate,
    evaluate_expression,
    render_json,
)

NEWTONSOFT_CASES = json.loads(
    (Path(__file__).parents[1] / "data" / "newtonsoft-xml-cases.json").read_text(encoding="utf-8")
)


def ev(text: str, **context: Any) -> Any:
    return evaluate_expression(text, context_from_json(context or None))


def _xml_text(value: dict[str, str]) -> str:
    assert value["$content-type"].startswith("application/xml")
    return base64.b64decode(value["$content"]).decode("utf-8")


# --- xml() <=> json() -------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in NEWTONSOFT_CASES if "xml" in c], ids=lambda c: c["test"])
def test_json_of_xml_matches_newtonsoft(case: dict[str, Any]) -> None:
    result = ev("json(xml(variables('doc')))", variables={"doc": case["xml"]})
    # Key order is part of the answer (it is the order a user sees and a for-each walks).
    assert json.dumps(result) == json.dumps(case["json"])


@pytest.mark.parametrize("case", [c for c in NEWTONSOFT_CASES if "xml_back" in c], ids=lambda c: c["test"])
def test_xml_of_json_matches_newtonsoft(case: dict[str, Any]) -> None:
    result = ev("xml(variables('value'))", variables={"value": case["json"]})
    assert _xml_text(result) == case["xml_back"]


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        pytest.param(
            "<a>x<b>1</b>y<b>2</b></a>", {"a": {"#text": ["x", "y"], "b": ["1", "2"]}}, id="mixed-text"
        ),
        pytest.param("<a>  keep  <b/></a>", {"a": {"#text": "  keep  ", "b": None}}, id="text-kept-as-is"),
        pytest.param("<a><![CDATA[<x>&]]></a>", {"a": {"#cdata-section": "<x>&"}}, id="cdata"),
        pytest.param("<a>caf&#233; &#x20AC;&#13;</a>", {"a": "café €\r"}, id="numeric-references"),
        pytest.param("<a><t/><t>1</t><u></u></a>", {"a": {"t": [None, "1"], "u": ""}}, id="empty-vs-blank"),
        pytest.param("<a><!--note--><b>1</b></a>", {"a": {"#comment": "note", "b": "1"}}, id="comment"),
    ],
)
def test_json_of_xml_keeps_every_node(xml: str, expected: Any) -> None:
    assert ev("json(xml(variables('doc')))", variables={"doc": xml}) == expected


@pytest.mark.parametrize(
    "xml",
    [
        pytest.param("<a>x<b>1</b><b>2</b></a>", id="repeated-elements"),
        pytest.param("<a><![CDATA[if a < b]]></a>", id="cdata"),
        pytest.param('<a k="v">caf&#233;&#x1F600;</a>', id="numeric-references"),
        pytest.param("<a><t /><u></u></a>", id="empty-elements"),
    ],
)
def test_round_trip_keeps_the_document(xml: str) -> None:
    once = ev("json(xml(variables('doc')))", variables={"doc": xml})
    again = ev("json(xml(variables('value')))", variables={"value": once})
    assert again == once
    assert "<t />" in _xml_text(ev("xml(variables('value'))", variables={"value": once})) or "<t" not in xml


def test_carriage_return_is_written_as_a_reference() -> None:
    assert _xml_text(ev('xml(json(\'{"a":"x\\r"}\'))')) == "<a>x&#xD;</a>"


def test_entity_declarations_are_refused() -> None:
    bomb = '<!DOCTYPE a [<!ENTITY e "xx"><!ENTITY f "&e;&e;">]><a>&f;</a>'
    with pytest.raises(ExpressionEvaluationError, match="entity declarations are not allowed"):
        ev("json(xml(variables('doc')))", variables={"doc": bomb})


def test_undeclared_element_prefix_is_a_clear_error() -> None:
    with pytest.raises(ExpressionEvaluationError, match="Namespace prefix x"):
        ev("xml(json('{\"x:a\": 1}'))")


# --- setProperty / removeProperty -------------------------------------------------------------


def test_set_and_remove_property_ignore_case_as_reads_do() -> None:
    obj = {"Id": 1, "name": "a"}
    assert ev("setProperty(variables('o'), 'ID', 2)", variables={"o": obj}) == {"Id": 2, "name": "a"}
    assert ev("removeProperty(variables('o'), 'NAME')", variables={"o": obj}) == {"Id": 1}
    assert ev("setProperty(variables('o'), 'new', 3)", variables={"o": obj}) == {**obj, "new": 3}
    with pytest.raises(ExpressionEvaluationError, match="the property 'Id' already exists"):
        ev("addProperty(variables('o'), 'id', 2)", variables={"o": obj})


# --- 64-bit integers, int(), decimal(), unary plus ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("add(9223372036854775807, 1)", id="add"),
        pytest.param("sub(-9223372036854775808, 1)", id="sub"),
        pytest.param("mul(4611686018427387904, 2)", id="mul"),
        pytest.param("div(-9223372036854775808, -1)", id="div"),
    ],
)
def test_integer_overflow_is_an_error(text: str) -> None:
    with pytest.raises(ExpressionEvaluationError, match="outside the 64-bit range"):
        ev(text)


def test_integer_results_at_the_limits_stay_integers() -> None:
    assert ev("add(9223372036854775806, 1)") == 9223372036854775807
    assert ev("sub(-9223372036854775807, 1)") == -9223372036854775808


def test_integer_literal_beyond_64_bits_is_a_syntax_error() -> None:
    with pytest.raises(ExpressionError, match="outside the 64-bit range"):
        ev("add(9223372036854775808, 0)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("int('1.0')", 1, id="trailing-zero-fraction"),
        pytest.param("int('  +1,000 ')", 1000, id="sign-spaces-thousands"),
        pytest.param("int('-42')", -42, id="negative"),
        pytest.param("int('9223372036854775807')", 9223372036854775807, id="max"),
        pytest.param("int(2.5)", 2, id="float-rounds-to-even"),
        pytest.param("add(+1, 2)", 3, id="unary-plus"),
        pytest.param("+5", 5, id="unary-plus-alone"),
    ],
)
def test_integer_parsing(text: str, expected: int) -> None:
    result = ev(text)
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value", ["1.5", "9223372036854775808", "abc", ""])
def test_int_refuses_what_long_parse_refuses(value: str) -> None:
    with pytest.raises(ExpressionEvaluationError, match="cannot be converted to the target type 'Int64'"):
        ev(f"int('{value}')")


def test_decimal_keeps_its_written_scale() -> None:
    assert ev("decimal('5.0000')") == Decimal("5.0000")
    assert ev("string(decimal('5.0000'))") == "5.0000"
    assert render_json(ev("decimal('5.0000')")) == "5.0000"
    assert render_json({"n": ev("add(decimal('1.10'), 1)")}) == '{"n":2.10}'


# --- dataUri, dataUriToBinary, intersection, last, casing, lone '@' ----------------------------


def _data(uri: str) -> tuple[str, bytes]:
    head, _, data = uri.partition(",")
    return head, base64.b64decode(data)


def test_data_uri_of_json_values_is_application_json() -> None:
    assert _data(ev("dataUri(json('{\"a\":1}'))")) == ("data:application/json;base64", b'{"a":1}')
    assert _data(ev("dataUri(true)")) == ("data:application/json;base64", b"true")
    assert _data(ev("dataUri('hello')")) == ("data:text/plain;charset=utf-8;base64", b"hello")


def test_data_uri_to_binary_keeps_trailing_spaces() -> None:
    result = ev("dataUriToBinary('data:text/plain,ab  ')")
    assert base64.b64decode(result["$content"]) == b"ab  "
    assert ev("dataUriToString('data:text/plain,ab  ')") == "ab  "


def test_intersection_of_objects_keeps_equal_pairs_only() -> None:
    objects = [{"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 9, "c": 3}, {"a": 1, "c": 3}]
    text = "intersection(variables('x')[0], variables('x')[1], variables('x')[2])"
    result = ev(text, variables={"x": objects})
    assert result == {"a": 1, "c": 3}


def test_first_and_last_of_empty_string_are_empty_strings() -> None:
    assert ev("last('')") == ""
    assert ev("first('')") == ""
    assert ev("last('abc')") == "c"
    assert ev("last(createArray())") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("toUpper('straße')", "STRAßE", id="sharp-s-unchanged"),
        pytest.param("toUpper('ﬁle')", "ﬁLE", id="ligature-unchanged"),
        pytest.param("toLower('ΟΔΟΣ')", "οδοσ", id="no-final-sigma"),
        pytest.param("toLower('İ')", "İ", id="dotted-capital-i-unchanged"),
        pytest.param("toUpper('\u0131')", "\u0131", id="dotless-i-unchanged"),
        pytest.param("toUpper('ǆ')", "Ǆ", id="digraph"),
        pytest.param("length(toUpper('ßßß'))", 3, id="length-preserved"),
    ],
)
def test_casing_is_dotnet_invariant(text: str, expected: Any) -> None:
    assert ev(text) == expected


def test_lone_at_sign_is_literal() -> None:
    context = context_from_json(None)
    assert evaluate("@", context) == "@"
    assert evaluate({"to": "@", "list": ["@"]}, context) == {"to": "@", "list": ["@"]}
