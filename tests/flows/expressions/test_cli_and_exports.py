"""The CLI entry point and the package's pinned public names."""

from __future__ import annotations

import pytest

import tether.flows.expressions as expressions
from tether.flows.expressions import (
    FUNCTIONS,
    ExpressionError,
    ExpressionEvaluationError,
    evaluate_for_cli,
)


def test_public_names_are_pinned() -> None:
    assert sorted(expressions.__all__) == sorted([
        "FUNCTIONS", "NO_ITEM", "Duration", "Expression", "ExpressionContext", "ExpressionError",
        "ExpressionEvaluationError", "Function", "context_from_json", "evaluate", "evaluate_expression",
        "evaluate_for_cli", "evaluate_parsed", "parse", "parse_duration", "render_json",
    ])  # fmt: skip
    for name in expressions.__all__:
        assert hasattr(expressions, name)


def test_registry_is_case_insensitive_and_complete() -> None:
    assert FUNCTIONS["TOLOWER"] is FUNCTIONS["toLower"]
    assert "formatnumber" in FUNCTIONS
    assert len(FUNCTIONS) == 128
    assert FUNCTIONS["concat"](None, "a", "b") == "ab"


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        pytest.param("concat('a', 'b')", None, "ab", id="bare"),
        pytest.param("@add(1, 2)", None, 3, id="with-at"),
        pytest.param("@{add(1, 2)} items", None, "3 items", id="template"),
        pytest.param("variables('x')", {"variables": {"x": [1]}}, [1], id="variables"),
        pytest.param("triggerBody().a", {"triggerOutputs": {"body": {"a": 1}}}, 1, id="trigger-outputs"),
        pytest.param("items('Loop')", {"items": {"Loop": "i"}}, "i", id="items"),
        pytest.param("item()", {"item": 5}, 5, id="item"),
        pytest.param("workflow().name", {"workflow": {"name": "wf"}}, "wf", id="workflow"),
        pytest.param("utcNow('yyyy')", {"utcNow": "2001-01-01T00:00:00Z"}, "2001", id="fixed-clock"),
        pytest.param("decimal('1.5')", None, 1.5, id="decimal-as-json-number"),
        pytest.param(
            "appSetting('Endpoint')",
            {"appSettings": {"Endpoint": "https://e"}},
            "https://e",
            id="app-setting",
        ),
        pytest.param("length(guid())", {"seed": 1}, 36, id="seeded-guid"),
    ],
)
def test_evaluate_for_cli(text, context, expected) -> None:
    assert evaluate_for_cli(text, context) == expected


def test_cli_rejects_unknown_context_keys() -> None:
    with pytest.raises(ExpressionError, match="unknown context key"):
        evaluate_for_cli("add(1, 1)", {"variabels": {}})


def test_cli_errors_are_one_clear_message() -> None:
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate_for_cli("add(1, 'x')")
    assert caught.value.code == "expression-evaluation-failed"
    assert str(caught.value).splitlines()[1].strip() == "add(1, 'x')"
