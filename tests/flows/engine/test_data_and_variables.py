"""Data operations and variables, each through a whole (small) run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.flows.engine._support import definition, run

PEOPLE = [{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}, {"name": "Grace", "age": 85}]


def _one(action: dict[str, Any], body: Any = None) -> Any:
    result = asyncio.run(run(definition({"A": action}), body))
    return result.action("A")


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        pytest.param({"type": "Compose", "inputs": "@add(1, 2)"}, 3, id="compose-expression"),
        pytest.param(
            {"type": "Compose", "inputs": {"n": "@triggerBody()?['n']", "s": "x@{1}"}},
            {"n": None, "s": "x1"},
            id="compose-object",
        ),
        pytest.param(
            {"type": "Select", "inputs": {"from": PEOPLE, "select": "@item()['name']"}},
            {"body": ["Ada", "Alan", "Grace"]},
            id="select-value",
        ),
        pytest.param(
            {"type": "Select", "inputs": {"from": PEOPLE, "select": {"who": "@toUpper(item()?['name'])"}}},
            {"body": [{"who": "ADA"}, {"who": "ALAN"}, {"who": "GRACE"}]},
            id="select-object",
        ),
        pytest.param(
            {"type": "Query", "inputs": {"from": PEOPLE, "where": "@greater(item()['age'], 40)"}},
            {"body": PEOPLE[1:]},
            id="query-filter",
        ),
        pytest.param(
            {"type": "Join", "inputs": {"from": ["a", 1, True], "joinWith": ";"}},
            {"body": "a;1;true"},
            id="join",
        ),
        pytest.param(
            {"type": "Table", "inputs": {"from": PEOPLE[:2], "format": "CSV"}},
            {"body": "name,age\r\nAda,36\r\nAlan,41\r\n"},
            id="table-csv-auto-columns",
        ),
        pytest.param(
            {
                "type": "Table",
                "inputs": {
                    "from": PEOPLE[:1],
                    "format": "HTML",
                    "columns": [{"header": "Who", "value": "@item()['name']"}],
                },
            },
            {
                "body": "<table><thead><tr><th>Who</th></tr></thead>"
                "<tbody><tr><td>Ada</td></tr></tbody></table>"
            },
            id="table-html-columns",
        ),
        pytest.param(
            {
                "type": "ParseJson",
                "inputs": {
                    "content": '{"a": 1}',
                    "schema": {"type": "object", "properties": {"a": {"type": "integer"}}},
                },
            },
            {"body": {"a": 1}},
            id="parse-json",
        ),
    ],
)
def test_data_operations(action: dict[str, Any], expected: Any) -> None:
    record = _one(action)
    assert record.status == "Succeeded", record.error
    assert record.outputs == expected


@pytest.mark.parametrize(
    ("action", "code"),
    [
        pytest.param(
            {
                "type": "ParseJson",
                "inputs": {
                    "content": {"a": "x"},
                    "schema": {
                        "type": "object",
                        "properties": {"a": {"type": "integer"}},
                        "required": ["a", "b"],
                    },
                },
            },
            "ValidationFailed",
            id="parse-json-schema",
        ),
        pytest.param(
            {"type": "ParseJson", "inputs": {"content": "{nope", "schema": {}}},
            "InvalidJSON",
            id="parse-json-syntax",
        ),
        pytest.param(
            {"type": "Query", "inputs": {"from": [1], "where": "@item()"}},
            "InvalidTemplate",
            id="query-non-boolean",
        ),
        pytest.param(
            {"type": "Select", "inputs": {"from": "no", "select": "@item()"}},
            "InvalidTemplate",
            id="select-not-array",
        ),
        pytest.param({"type": "Compose", "inputs": "@div(1, 0)"}, "InvalidTemplate", id="expression-error"),
    ],
)
def test_data_operation_failures(action: dict[str, Any], code: str) -> None:
    record = _one(action)
    assert (record.status, record.code) == ("Failed", code)
    assert record.error["message"]


def test_parse_json_lists_every_schema_problem() -> None:
    record = _one(
        {
            "type": "ParseJson",
            "inputs": {
                "content": {"a": "x"},
                "schema": {
                    "type": "object",
                    "properties": {"a": {"type": "integer"}},
                    "required": ["a", "b"],
                },
            },
        }
    )
    assert "'b' is a required property" in record.error["message"]
    assert "is not of type 'integer'" in record.error["message"]


def _variables(*steps: dict[str, Any]) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    previous = None
    for index, step in enumerate(steps):
        name = f"S{index}"
        actions[name] = {**step, "runAfter": {previous: ["Succeeded"]} if previous else {}}
        previous = name
    actions["Out"] = {"type": "Compose", "inputs": "@variables('v')", "runAfter": {previous: ["Succeeded"]}}
    return definition(actions)


def _init(kind: str, value: Any) -> dict[str, Any]:
    return {
        "type": "InitializeVariable",
        "inputs": {"variables": [{"name": "v", "type": kind, "value": value}]},
    }


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(
            [
                _init("integer", 1),
                {"type": "IncrementVariable", "inputs": {"name": "v"}},
                {"type": "IncrementVariable", "inputs": {"name": "v", "value": 5}},
            ],
            7,
            id="increment",
        ),
        pytest.param(
            [_init("float", 1.5), {"type": "DecrementVariable", "inputs": {"name": "v", "value": 0.5}}],
            1.0,
            id="decrement-float",
        ),
        pytest.param(
            [
                _init("string", "a"),
                {"type": "AppendToStringVariable", "inputs": {"name": "v", "value": "b"}},
                {"type": "AppendToStringVariable", "inputs": {"name": "v", "value": 3}},
            ],
            "ab3",
            id="append-string",
        ),
        pytest.param(
            [
                _init("array", []),
                {"type": "AppendToArrayVariable", "inputs": {"name": "v", "value": {"x": 1}}},
            ],
            [{"x": 1}],
            id="append-array",
        ),
        pytest.param(
            [_init("boolean", False), {"type": "SetVariable", "inputs": {"name": "v", "value": True}}],
            True,
            id="set-boolean",
        ),
        pytest.param([_init("object", None)], {}, id="object-default"),
    ],
)
def test_variables(steps: list[dict[str, Any]], expected: Any) -> None:
    result = asyncio.run(run(_variables(*steps)))
    assert result.status == "Succeeded", result.statuses()
    assert result.action("Out").outputs == expected


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param([_init("integer", "one")], id="init-wrong-type"),
        pytest.param(
            [_init("integer", 1), {"type": "IncrementVariable", "inputs": {"name": "v", "value": 0.5}}],
            id="increment-integer-by-fraction",
        ),
        pytest.param(
            [_init("string", ""), {"type": "IncrementVariable", "inputs": {"name": "v"}}],
            id="increment-string",
        ),
        pytest.param(
            [_init("integer", 1), {"type": "SetVariable", "inputs": {"name": "v", "value": "x"}}],
            id="set-wrong-type",
        ),
        pytest.param([{"type": "SetVariable", "inputs": {"name": "v", "value": 1}}], id="not-initialized"),
        pytest.param([_init("integer", 1), _init("integer", 2)], id="initialized-twice"),
    ],
)
def test_variable_mistakes_fail_the_action(steps: list[dict[str, Any]]) -> None:
    result = asyncio.run(run(_variables(*steps)))
    assert result.status == "Failed"
    assert "Failed" in result.statuses().values()
    assert result.action("Out").status == "Skipped"
