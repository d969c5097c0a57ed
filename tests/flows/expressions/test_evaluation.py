"""Evaluation: property access, null safety, positioned runtime errors, type rules, values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tether.flows.expressions import (
    ExpressionContext,
    ExpressionError,
    ExpressionEvaluationError,
    context_from_json,
    evaluate,
    evaluate_expression,
)

CONTEXT = context_from_json(
    {
        "parameters": {"order": {"id": "o1", "lines": [{"sku": "A"}, {"sku": "B"}], "note": None}},
        "variables": {"count": 3, "Name": "Ada"},
        "actions": {"Get_user": {"status": "Succeeded", "outputs": {"statusCode": 200, "body": {"Id": 7}}}},
    }
)


def run(text: str):
    return evaluate_expression(text, CONTEXT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("parameters('order').id", "o1", id="member"),
        pytest.param("parameters('order')['lines'][1].sku", "B", id="index-then-member"),
        pytest.param("parameters('order')?['missing']", None, id="null-safe-missing"),
        pytest.param("parameters('order')?['missing']?['deeper']", None, id="null-safe-chain"),
        pytest.param("parameters('order')?.missing", None, id="null-safe-dot"),
        pytest.param("parameters('order').note?.x", None, id="null-safe-on-null"),
        pytest.param("parameters('order')?['lines']?[5]", None, id="null-safe-out-of-range"),
        pytest.param("parameters('order')['LINES'][0]['sku']", "A", id="case-insensitive-property"),
        pytest.param("variables('name')", "Ada", id="case-insensitive-variable"),
        pytest.param("body('Get user').Id", 7, id="action-name-with-space"),
        pytest.param("outputs('Get_user').statusCode", 200, id="outputs"),
        pytest.param("actions('Get_user').status", "Succeeded", id="actions"),
        pytest.param("coalesce(parameters('order')?['x'], 'fallback')", "fallback", id="coalesce"),
        pytest.param("if(equals(variables('count'), 0), div(1, 0), 'safe')", "safe", id="if-is-lazy"),
        pytest.param("or(true, div(1, 0))", True, id="or-short-circuits"),
        pytest.param("and(false, div(1, 0))", False, id="and-short-circuits"),
    ],
)
def test_access_and_laziness(text, expected) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        pytest.param(
            "parameters('order').missing", 21, "property 'missing' doesn't exist", id="missing-property"
        ),
        pytest.param("parameters('order').note.x", 26, "the value is null: use '?'", id="null-member"),
        pytest.param(
            "parameters('order').lines[9]", 27, "array index 9 is outside the bounds (0, 1)", id="index-range"
        ),
        pytest.param(
            "add(1, 'two')",
            8,
            "expects its second parameter to be an integer or a decimal number. "
            "The provided value is of type 'String'",
            id="type-error-points-at-argument",
        ),
        pytest.param(
            "split(parameters('order').note, ',')",
            7,
            "expects its first parameter to be a string. The provided value is of type 'Null'",
            id="null-to-string-function",
        ),
        pytest.param(
            "length(null)",
            8,
            "expects its first parameter to be an array, a string or an object",
            id="length-of-null",
        ),
        pytest.param("div(1, 0)", 8, "can't divide by zero", id="division-by-zero"),
        pytest.param("variables('nope')", 11, "The variable 'nope' isn't initialized", id="unknown-variable"),
        pytest.param(
            "parameters('nope')", 12, "The workflow parameter 'nope' is not found", id="unknown-parameter"
        ),
        pytest.param("body('Nope')", 6, "The action 'Nope'", id="unknown-action"),
        pytest.param("item()", 1, "inside a Foreach loop", id="item-outside-loop"),
        pytest.param("int('1.5')", 5, "cannot be converted to the target type 'Int64'", id="int-parse"),
        pytest.param("json('{bad')", 6, "'json' parameter is not valid", id="bad-json"),
        pytest.param("formatDateTime('yesterday')", 16, "isn't one", id="bad-timestamp"),
        pytest.param(
            "addToTime('2020-01-01', 1, 'Fortnight')",
            28,
            "The time unit 'Fortnight' isn't valid",
            id="bad-unit",
        ),
        pytest.param("formatNumber(1.5, 'D2')", 19, "works only with integers", id="bad-number-format"),
        pytest.param(
            "substring('abc', 1, 5)", 21, "must not be greater than the length", id="substring-range"
        ),
    ],
)
def test_runtime_errors_point_at_the_cause(text, column, fragment) -> None:
    with pytest.raises(ExpressionEvaluationError) as caught:
        run(text)
    error = caught.value
    assert isinstance(error, ExpressionError)
    assert error.code == "expression-evaluation-failed"
    assert fragment in error.reason, error.reason
    assert error.column == column, str(error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("add(1, 2)", 3, id="int-plus-int"),
        pytest.param("add(1, 1.5)", 2.5, id="int-plus-float"),
        pytest.param("div(11, 5)", 2, id="integer-division"),
        pytest.param("div(-11, 5)", -2, id="integer-division-truncates"),
        pytest.param("div(11, 5.0)", 2.2, id="float-division"),
        pytest.param("mod(-5, 2)", -1, id="mod-takes-dividend-sign"),
        pytest.param("mod(4, -3)", 1, id="mod-positive-dividend"),
        pytest.param(
            "string(add(decimal('1.2345678912312131'), decimal('1.2345678912312131')))",
            "2.4691357824624262",
            id="decimal-precision",
        ),
        pytest.param("string(mul(1.5, 2))", "3", id="float-prints-like-dotnet"),
        pytest.param("string(true)", "True", id="bool-to-string"),
        pytest.param("string(createArray(1, 'a', null))", '[1,"a",null]', id="array-to-string"),
        pytest.param("concat('n=', null, 1.5)", "n=1.5", id="concat-null"),
        pytest.param("equals(null, '')", True, id="null-equals-empty-string"),
        pytest.param(
            'equals(json(\'{"a":[1,{"b":2}]}\'), json(\'{"a":[1.0,{"b":2}]}\'))', True, id="deep-equals"
        ),
        pytest.param('equals(json(\'{"a":1,"b":2}\'), json(\'{"b":2,"a":1}\'))', True, id="key-order-free"),
        pytest.param("equals('abc', 'ABC')", False, id="equals-case-sensitive"),
        pytest.param("greater(decimal('0.3'), 0.2)", True, id="decimal-compare"),
        pytest.param("less(null, 'a')", True, id="null-compares-as-empty"),
        pytest.param("indexOf('Hello', 'LL')", 2, id="indexOf-ignores-case"),
        pytest.param("contains('Hello', 'LL')", False, id="contains-is-case-sensitive"),
        pytest.param("lastIndexOf('abc', '')", 2, id="lastIndexOf-empty"),
        pytest.param("nthIndexOf('123456789123465789', '1', -1)", 9, id="nthIndexOf-from-end"),
        pytest.param("slice('Hello World', 10, 2)", "", id="slice-crossed"),
        pytest.param("empty(null)", True, id="empty-null"),
        pytest.param("first(createArray())", None, id="first-of-empty"),
        pytest.param("contains(json('{\"a\":1}'), 'a')", True, id="contains-key"),
        pytest.param(
            'union(json(\'{"a":1}\'), json(\'{"a":2,"b":3}\'))', {"a": 2, "b": 3}, id="union-objects"
        ),
        pytest.param(
            "intersection(createArray(1, 2, 3), createArray(101, 2, 1, 10), createArray(6, 8, 1, 2))",
            [1, 2],
            id="intersection",
        ),
        pytest.param("sort(createArray('b', 'a', 'c'))", ["a", "b", "c"], id="sort-strings"),
        pytest.param("guid('N')", "0" * 32, id="guid-injected"),
        pytest.param("rand(1, 2)", 1, id="rand-bounds"),
        pytest.param("bool('TRUE')", True, id="bool-string"),
        pytest.param("int('  -42 ')", -42, id="int-with-spaces"),
        pytest.param("float('10.000,333', 'de-DE')", 10000.333, id="float-locale"),
        pytest.param("isFloat('12345678.-')", False, id="isFloat-is-stricter-than-float"),
        pytest.param(
            "json(xml('<root><a x=\"1\">t</a><a>u</a></root>'))",
            {"root": {"a": [{"@x": "1", "#text": "t"}, "u"]}},
            id="xml-to-json",
        ),
        pytest.param(
            "xpath(xml('<r><a>1</a><a>2</a></r>'), '/r/a/text()')", ["1", "2"], id="xpath-text-nodes"
        ),
        pytest.param("xpath(xml('<r><a>1</a></r>'), 'count(/r/a)')", 1.0, id="xpath-number"),
        pytest.param("xpath(xml('<r><a>1</a></r>'), 'boolean(/r/b)')", False, id="xpath-boolean"),
        pytest.param("base64ToString(base64('héllo'))", "héllo", id="base64-utf8"),
        pytest.param("string(binary('hi'))", "hi", id="string-of-binary"),
        pytest.param("dataUriToString('data:,a%20b')", "a b", id="percent-data-uri"),
        pytest.param("uriComponent('a b/ü~')", "a%20b%2F%C3%BC~", id="uri-component"),
        pytest.param("uriPort('http://contoso.com/x')", 80, id="default-port"),
        pytest.param("uriPath('https://contoso.com')", "/", id="default-path"),
        pytest.param("setProperty(json('{\"a\":1}'), 'b', 2)", {"a": 1, "b": 2}, id="setProperty-adds"),
        pytest.param("removeProperty(json('{\"a\":1}'), 'zzz')", {"a": 1}, id="removeProperty-missing"),
    ],
)
def test_function_semantics(text, expected) -> None:
    context = ExpressionContext(new_guid=lambda: __import__("uuid").UUID(int=0))
    result = evaluate_expression(text, context)
    assert result == expected
    assert type(result) is type(expected)


def test_add_property_refuses_existing_property() -> None:
    with pytest.raises(ExpressionEvaluationError, match="already exists: use setProperty"):
        run("addProperty(json('{\"a\":1}'), 'a', 2)")


def test_decimal_stays_decimal() -> None:
    assert run("decimal('1.2345678912312131')") == Decimal("1.2345678912312131")


def test_evaluate_walks_json_without_changing_it() -> None:
    inputs = {"uri": "https://x/@{variables('count')}", "body": ["@variables('count')", {"n": "@@x"}], "k": 1}
    assert evaluate(inputs, CONTEXT) == {"uri": "https://x/3", "body": [3, {"n": "@x"}], "k": 1}
    assert inputs["body"][0] == "@variables('count')"


def test_loops_and_workflow_state() -> None:
    outer = ExpressionContext(workflow={"run": {"name": "r1"}}, callback_url=lambda: "https://cb").in_loop(
        "Outer", {"n": 1}
    )
    inner = outer.in_loop("Inner", "x").in_until("Until", 4)
    assert evaluate_expression("items('Outer').n", inner) == 1
    assert evaluate_expression("item()", inner) == "x"
    assert evaluate_expression("iterationIndexes('Until')", inner) == 4
    assert evaluate_expression("workflow().run.name", inner) == "r1"
    assert evaluate_expression("listCallbackUrl()", inner) == "https://cb"


def test_trigger_functions_and_form_data() -> None:
    context = context_from_json(
        {
            "triggerOutputs": {
                "headers": {"x": "1"},
                "body": {
                    "$formdata": [
                        {"key": "a", "value": "1"},
                        {"key": "b", "value": "2"},
                        {"key": "b", "value": "3"},
                    ]
                },
            }
        }
    )
    assert evaluate_expression("triggerOutputs().headers.x", context) == "1"
    assert evaluate_expression("triggerFormDataValue('a')", context) == "1"
    assert evaluate_expression("triggerFormDataMultiValues('b')", context) == ["2", "3"]
    with pytest.raises(ExpressionEvaluationError, match="found 2 values"):
        evaluate_expression("triggerFormDataValue('b')", context)
    multipart = context_from_json({"trigger": {"outputs": {"body": {"$multipart": [{"body": "p0"}]}}}})
    assert evaluate_expression("triggerMultipartBody(0)", multipart) == "p0"
    assert evaluate_expression("triggerBody()?.nothing", context_from_json({"trigger": {}})) is None


def test_result_reads_scope_results() -> None:
    context = context_from_json({"results": {"Scope": [{"name": "A", "status": "Failed"}]}})
    assert evaluate_expression("first(result('Scope')).status", context) == "Failed"
