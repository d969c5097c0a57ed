"""Issue 13: conditions written as objects whose arguments are function objects are evaluated.

``{"and": [{"equals": [{"length": ["@triggerBody()"]}, 1]}]}`` is how the designer and exported
definitions write ``equals(length(triggerBody()), 1)``; any letter case works, as in Logic Apps.
Before, the inner ``{"length": [...]}`` went to ``equals`` as a literal object, so the condition was
silently false.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.flows.engine._support import definition, run

LENGTH_IS_ONE = {"and": [{"equals": [{"length": ["@triggerBody()"]}, 1]}]}


def _if(expression: Any) -> dict[str, Any]:
    return definition(
        {
            "Check": {
                "type": "If",
                "expression": expression,
                "actions": {"Yes": {"type": "Compose", "inputs": "yes"}},
                "else": {"actions": {"No": {"type": "Compose", "inputs": "no"}}},
            }
        }
    )


def _branch(expression: Any, body: Any) -> str:
    result = asyncio.run(run(_if(expression), body))
    assert result.status == "Succeeded", result.statuses()
    return "Yes" if result.statuses().get("Check/Yes") == "Succeeded" else "No"


@pytest.mark.parametrize(
    ("expression", "body", "branch"),
    [
        pytest.param(LENGTH_IS_ONE, [7], "Yes", id="nested-length"),
        pytest.param(LENGTH_IS_ONE, [7, 8], "No", id="nested-false"),
        pytest.param({"AND": [{"Equals": [{"LENGTH": ["@triggerBody()"]}, 1]}]}, [7], "Yes", id="upper-case"),
        pytest.param(
            {"or": [{"greater": [{"add": [{"length": ["@triggerBody()"]}, 1]}, 2]}, False]},
            [1, 2],
            "Yes",
            id="two-levels",
        ),
        pytest.param({"not": {"contains": [{"toLower": ["@'ABC'"]}, "b"]}}, None, "No", id="not-nested"),
        pytest.param({"equals": [{"length": ["@triggerBody()"]}, 0]}, [], "Yes", id="bare-comparison"),
    ],
)
def test_nested_function_objects_are_evaluated(expression: Any, body: Any, branch: str) -> None:
    assert _branch(expression, body) == branch


def test_a_condition_that_gives_no_boolean_fails_clearly() -> None:
    result = asyncio.run(run(_if({"length": ["@triggerBody()"]}), [1]))
    record = result.action("Check")
    assert record.status == "Failed"
    assert "must give a boolean" in str(record.error)


def test_a_wrong_argument_count_fails_clearly() -> None:
    result = asyncio.run(run(_if({"equals": [{"length": []}, 1]}), [1]))
    assert result.action("Check").status == "Failed"
    assert "expects exactly 1 argument" in str(result.action("Check").error)
