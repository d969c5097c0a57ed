"""Every example of Microsoft's expression function reference, with the documented result.

The 151 examples live in ``shared/samples/expressions/expressions.json`` (see its SOURCE.md). Most are
compared as they are: numbers numerically (the doc prints ``3`` for the Float ``3.0``), XML results as
XML. A few documented results are renderings of values that are not plain JSON (binary content, XML
nodes) or doc mistakes (``quirk``); for each of those ``ADAPTERS`` below says how the faithful runtime
value relates to what the doc shows, and why that is what users expect.
"""

from __future__ import annotations

import base64
import json
import math
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from tests._paths import SAMPLES, need
from tether.flows.expressions import (
    ExpressionError,
    context_from_json,
    evaluate,
    evaluate_expression,
)

EXAMPLES_FILE = SAMPLES / "expressions" / "expressions.json"


def _load() -> list[dict[str, Any]]:
    if not EXAMPLES_FILE.exists():
        return []
    return json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))


EXAMPLES = _load()


def _xml_canonical(text: str | bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    return etree.tostring(etree.fromstring(data.strip(), parser), method="c14n")


def _content(value: dict[str, Any]) -> bytes:
    assert set(value) == {"$content-type", "$content"}, value
    return base64.b64decode(value["$content"])


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or expected is None or isinstance(actual, bool):
        return actual is expected or (actual == expected and type(actual) is type(expected))
    if isinstance(expected, int | float) and isinstance(actual, int | float | Decimal):
        return math.isclose(float(actual), float(expected), rel_tol=1e-12)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(_same, actual, expected))
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(_same(actual[k], expected[k]) for k in expected)
        )
    return actual == expected and type(actual) is type(expected)


def _bits(data: bytes) -> str:
    return "".join(f"{byte:08b}" for byte in data)


# How a documented result that is not literally a JSON value maps to the runtime value, and why.
def _decode_data_uri(example: dict[str, Any], result: Any) -> None:
    # decodeDataUri returns binary content (a content envelope keeping the data URI's media type);
    # the doc shows the decoded text.
    assert result["$content-type"] == "text/plain;charset=utf-8"
    assert _content(result).decode() == example["expected"]


def _uri_component_to_binary(example: dict[str, Any], result: Any) -> None:
    # Binary content is an envelope whose "$content" is the base64 the doc shows.
    assert result["$content"] == example["expected"]


def _binary_bits(example: dict[str, Any], result: Any) -> None:
    # The 2018 doc rendered binary content as bit strings; the bits are exactly the bytes we hold.
    assert _bits(_content(result)) == example["expected"]


def _base64_to_binary_bits(example: dict[str, Any], result: Any) -> None:
    # The 2018 doc's bit string spells the *input* 'aGVsbG8=' itself, not its decoded bytes: a doc
    # error. Users expect the decoded bytes ('hello'), which is what the runtime returns.
    assert _bits(b"aGVsbG8=") == example["expected"]
    assert _content(result) == b"hello"


def _xpath_element_texts(example: dict[str, Any], result: Any) -> None:
    # The doc prints element nodes by their text; the runtime returns the nodes (XML envelopes).
    expected = example["expected"] if isinstance(example["expected"], list) else [example["expected"]]
    texts = [etree.fromstring(_content(node)).text for node in result]
    assert texts == expected


def _xpath_single_node(example: dict[str, Any], result: Any) -> None:
    # A node-set is always an array at run time (flows index it: xpath(...)[0]), even with one match;
    # the doc shows the lone node itself.
    assert len(result) == 1
    assert _xml_canonical(_content(result[0])) == _xml_canonical(example["expected"])


ADAPTERS = {
    "decodeDataUri-01": _decode_data_uri,
    "uriComponentToBinary-01": _uri_component_to_binary,
    "binary-01": _binary_bits,
    "base64ToBinary-01": _base64_to_binary_bits,
    "xpath-04": _xpath_element_texts,
    "xpath-06": _xpath_element_texts,
    "xpath-09": _xpath_single_node,
}


def _run(example: dict[str, Any]) -> Any:
    context = context_from_json(example.get("context"))
    if example.get("template"):
        return evaluate(example["expression"], context)
    return evaluate_expression(example["expression"], context)


@pytest.mark.parametrize(
    "example", [pytest.param(e, id=e["id"]) for e in EXAMPLES] or [pytest.param(None, id="examples-absent")]
)
def test_documented_example(example: dict[str, Any] | None) -> None:
    need(EXAMPLES_FILE)
    assert example is not None
    if example["id"] in SPECIAL:
        SPECIAL[example["id"]](example)
        return
    result = _run(example)
    if example["id"] in ADAPTERS:
        ADAPTERS[example["id"]](example, result)
    elif example.get("compare") == "xml":
        expected = example["expected"]
        if isinstance(expected, list):
            assert [_xml_canonical(_content(node)) for node in result] == [
                _xml_canonical(e) for e in expected
            ]
        else:
            assert _xml_canonical(_content(result)) == _xml_canonical(expected)
    else:
        assert not example.get("quirk"), "every quirk needs an adapter saying why"
        assert _same(result, example["expected"]), (result, example["expected"])


def test_every_example_is_present() -> None:
    need(EXAMPLES_FILE)
    assert len(EXAMPLES) == 151
    assert len({e["id"] for e in EXAMPLES}) == 151


def _xpath_with_unescaped_quotes(example: dict[str, Any]) -> None:
    """xpath-05 as printed nests unescaped quotes, which cannot parse; doubled, it gives the node.

    Users expect the error to point at the quote that ends the string early, and the corrected
    expression (quotes doubled, as WDL requires) to select the one <name> whose text is Gala.
    """
    context = context_from_json(example["context"])
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression(example["expression"], context)
    assert caught.value.column == example["expression"].index("true'") + 1
    fixed = example["expression"].replace("'true'", "''true''")
    result = evaluate_expression(fixed, context)
    _xpath_element_texts(example, result)


def _object_literal_is_not_expression_syntax(example: dict[str, Any]) -> None:
    """string-02 passes a JSON object literal, which WDL has no syntax for; json() builds one.

    The error points at the '{'; the runtime's string() of the object is compact JSON, not the doc's
    spaced rendering (its note says so).
    """
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression(example["expression"], context_from_json(None))
    assert caught.value.column == example["expression"].index("{") + 1
    result = evaluate_expression("""string(json('{ "name": "Sophie Owen" }'))""", context_from_json(None))
    assert result == '{"name":"Sophie Owen"}'
    assert json.loads(result) == json.loads(example["expected"].replace("\\", ""))


# Quirks whose documented expression cannot run as printed: checked whole, in place of a comparison.
SPECIAL = {
    "xpath-05": _xpath_with_unescaped_quotes,
    "string-02": _object_literal_is_not_expression_syntax,
}
