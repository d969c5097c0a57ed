"""Parsing: the grammar, string templates, and errors with exact positions."""

from __future__ import annotations

import pytest

from tether.errors import InputError
from tether.flows.expressions import ExpressionContext, ExpressionError, evaluate, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("plain text", "plain text", id="literal"),
        pytest.param("@@", "@", id="escaped-at"),
        pytest.param("@@concat('a')", "@concat('a')", id="escaped-expression"),
        pytest.param("email@example.com", "email@example.com", id="at-inside-text"),
        pytest.param("@add(1, 2)", 3, id="typed-result"),
        pytest.param("@{add(1, 2)}", "3", id="interpolation-alone-is-string"),
        pytest.param("a @{add(1, 2)} b @{'x'}", "a 3 b x", id="interpolation"),
        pytest.param("price: @{'{}'}!", "price: {}!", id="braces-inside-string-literal"),
        pytest.param("@@{literal}", "@{literal}", id="escaped-interpolation-at-start"),
        pytest.param("x @@{y}", "x @{y}", id="escaped-interpolation-inside"),
        pytest.param("@{true} @{null}|", "True |", id="interpolated-bool-and-null"),
        pytest.param("@'it''s'", "it's", id="doubled-quote"),
        pytest.param("@concat('a', '''quoted''')", "a'quoted'", id="nested-quotes"),
        pytest.param("@.5", 0.5, id="leading-dot-number"),
        pytest.param("@-3", -3, id="negative-number"),
        pytest.param("@1e3", 1000.0, id="exponent"),
        pytest.param("@TRUE", True, id="keyword-any-case"),
        pytest.param("@CONCAT('a','b')", "ab", id="function-any-case"),
        pytest.param("@ concat( 'a' ,\n 'b' ) ", "ab", id="whitespace-and-newlines"),
    ],
)
def test_templates(text, expected) -> None:
    result = evaluate(text, ExpressionContext())
    assert result == expected
    assert type(result) is type(expected)


def test_parse_is_cached_and_keeps_text() -> None:
    assert parse("@add(1, 2)") is parse("@add(1, 2)")
    assert parse("@add(1, 2)").text == "@add(1, 2)"
    assert parse("no expression").is_literal


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        pytest.param(
            "@concat('a'", 12, "expected ',' or ')' after argument 1 of concat()", id="unclosed-call"
        ),
        pytest.param("@concat('a", 9, "unterminated string", id="unterminated-string"),
        pytest.param("@concta('a')", 2, "did you mean 'concat'", id="unknown-function-suggestion"),
        pytest.param("@zzzzqqq()", 2, "unknown function 'zzzzqqq'", id="unknown-function"),
        pytest.param("@add(1)", 2, "expects exactly 2 arguments, got 1", id="too-few-arguments"),
        pytest.param("@utcNow('o', 'x')", 2, "expects 0 to 1 arguments, got 2", id="too-many-arguments"),
        pytest.param("@body", 2, "'body' is not a value", id="bare-name"),
        pytest.param("@add(1, 2) x", 12, "unexpected 'x' after the expression", id="trailing-text"),
        pytest.param(
            "a @{add(1, 2) b", 15, "expected '}' to close the '@{' opened at column 3", id="unclosed-brace"
        ),
        pytest.param("@body('x').", 12, "expected a property name after '.'", id="dangling-dot"),
        pytest.param("@body('x')?", 12, "expected '.' or '[' after '?'", id="dangling-question-mark"),
        pytest.param("@body('x')['a'", 15, "expected ']' to close the index", id="unclosed-index"),
    ],
)
def test_syntax_errors_point_at_the_problem(text, column, fragment) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    error = caught.value
    assert isinstance(error, InputError)
    assert error.code == "invalid-expression"
    assert fragment in error.reason
    assert error.column == column
    caret_line = str(error).splitlines()[-1]
    assert caret_line.index("^") - 2 == column - 1  # the caret sits under the culprit
    assert error.detail["column"] == column


def test_multiline_error_reports_line_and_column() -> None:
    text = "@concat(\n  'a',\n  bogus)"
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert (caught.value.line, caught.value.column) == (3, 3)
    assert "line 3, column 3" in str(caught.value)
