"""runAfter semantics and the control actions: If, Switch, Scope, Foreach, Until, Terminate, Wait."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.flows.engine._support import definition, run
from tether.flows.engine import EngineServices, VirtualClock

FAIL = {"type": "Compose", "inputs": "@div(1, 0)"}
OK = {"type": "Compose", "inputs": "ok"}


def _after(action: dict[str, Any], **run_after: list[str]) -> dict[str, Any]:
    return {**action, "runAfter": run_after}


@pytest.mark.parametrize(
    ("actions", "run_status", "statuses"),
    [
        pytest.param(
            {"A": OK, "B": _after(OK, A=["Succeeded"])},
            "Succeeded",
            {"A": "Succeeded", "B": "Succeeded"},
            id="chain",
        ),
        pytest.param(
            {"A": FAIL, "B": _after(OK, A=["Succeeded"]), "C": _after(OK, B=["Succeeded"])},
            "Failed",
            {"A": "Failed", "B": "Skipped", "C": "Skipped"},
            id="unhandled-failure-skips-successors",
        ),
        pytest.param(
            {"A": FAIL, "Catch": _after(OK, A=["Failed"])},
            "Succeeded",
            {"A": "Failed", "Catch": "Succeeded"},
            id="handled-failure",
        ),
        pytest.param(
            {"A": OK, "Catch": _after(OK, A=["Failed", "TimedOut"])},
            "Succeeded",
            {"A": "Succeeded", "Catch": "Skipped"},
            id="handler-skipped",
        ),
        pytest.param(
            {"A": FAIL, "B": _after(OK, A=["Succeeded"]), "C": _after(OK, B=["Skipped"])},
            "Failed",
            {"A": "Failed", "B": "Skipped", "C": "Succeeded"},
            id="after-skipped-still-unhandled",
        ),
        pytest.param(
            {"A": OK, "B": OK, "J": _after(OK, A=["SUCCEEDED"], B=["succeeded"])},
            "Succeeded",
            {"A": "Succeeded", "B": "Succeeded", "J": "Succeeded"},
            id="join-case-insensitive",
        ),
        pytest.param(
            {"A": OK, "B": FAIL, "J": _after(OK, A=[], B=["Succeeded"])},
            "Failed",
            {"A": "Succeeded", "B": "Failed", "J": "Skipped"},
            id="join-one-branch-failed",
        ),
    ],
)
def test_run_after(actions: dict[str, Any], run_status: str, statuses: dict[str, str]) -> None:
    result = asyncio.run(run(definition(actions)))
    assert result.status == run_status
    assert result.statuses() == statuses
    if run_status == "Failed":
        assert result.outcome.error["code"] == "ActionFailed"


def test_skipped_action_says_why() -> None:
    result = asyncio.run(run(definition({"A": FAIL, "B": _after(OK, A=["Succeeded"])})))
    error = result.action("B").error
    assert error["code"] == "ActionConditionFailed"
    assert "'A'" in error["message"] and "Failed" in error["message"]


def test_parallel_branches_run_concurrently() -> None:
    clock = VirtualClock()
    wait = {"type": "Wait", "inputs": {"interval": {"count": 10, "unit": "Second"}}}
    result = asyncio.run(
        run(
            definition({"A": wait, "B": wait, "C": _after(OK, A=[], B=[])}),
            services=EngineServices(clock=clock),
        )
    )
    assert result.status == "Succeeded"
    assert clock.sleeps == [10.0, 10.0]


@pytest.mark.parametrize(
    ("expression", "branch"),
    [
        pytest.param("@equals(triggerBody()['n'], 1)", "Yes", id="string-true"),
        pytest.param("@greater(triggerBody()['n'], 5)", "No", id="string-false"),
        pytest.param(
            {"and": [{"equals": ["@triggerBody()['n']", 1]}, {"not": {"contains": ["abc", "z"]}}]},
            "Yes",
            id="object-and-not",
        ),
        pytest.param(
            {"or": [{"greater": ["@triggerBody()['n']", 5]}, {"startsWith": ["hello", "he"]}]},
            "Yes",
            id="object-or",
        ),
        pytest.param({"and": [{"lessOrEquals": ["@triggerBody()['n']", 0]}]}, "No", id="object-false"),
    ],
)
def test_if(expression: Any, branch: str) -> None:
    document = definition(
        {
            "If": {
                "type": "If",
                "expression": expression,
                "actions": {"Yes": OK},
                "else": {"actions": {"No": OK}},
            }
        }
    )
    result = asyncio.run(run(document, {"n": 1}))
    assert result.status == "Succeeded"
    assert f"If/{branch}" in result.statuses()
    assert len(result.statuses()) == 2


def test_if_condition_must_be_boolean() -> None:
    result = asyncio.run(
        run(definition({"If": {"type": "If", "expression": "@triggerBody()", "actions": {}}}), 3)
    )
    assert result.action("If").status == "Failed"
    assert result.action("If").code == "InvalidTemplate"


@pytest.mark.parametrize(("value", "chosen"), [("a", "CaseA"), (2, "CaseB"), ("zzz", "Other")])
def test_switch(value: Any, chosen: str) -> None:
    document = definition(
        {
            "S": {
                "type": "Switch",
                "expression": "@triggerBody()",
                "cases": {
                    "A": {"case": "a", "actions": {"CaseA": OK}},
                    "B": {"case": 2, "actions": {"CaseB": OK}},
                },
                "default": {"actions": {"Other": OK}},
            }
        }
    )
    result = asyncio.run(run(document, value))
    assert list(result.statuses()) == [f"S/{chosen}", "S"]


def test_scope_failure_and_result_for_try_catch() -> None:
    document = definition(
        {
            "Try": {"type": "Scope", "actions": {"Ok": OK, "Bad": _after(FAIL, Ok=[])}},
            "Catch": {
                "type": "Scope",
                "runAfter": {"Try": ["Failed", "TimedOut"]},
                "actions": {
                    "Errors": {
                        "type": "Query",
                        "inputs": {"from": "@result('Try')", "where": "@equals(item()['status'], 'Failed')"},
                    }
                },
            },
        }
    )
    result = asyncio.run(run(document))
    assert result.status == "Succeeded"
    assert result.action("Try").status == "Failed"
    failed = result.action("Catch/Errors").outputs["body"]
    assert [r["name"] for r in failed] == ["Bad"]
    assert failed[0]["error"]["code"] == "InvalidTemplate"


@pytest.mark.parametrize(
    ("inputs", "status", "error"),
    [
        pytest.param(
            {"runStatus": "Failed", "runError": {"code": "E1", "message": "boom"}},
            "Failed",
            {"code": "E1", "message": "boom"},
            id="failed",
        ),
        pytest.param({"runStatus": "Cancelled"}, "Cancelled", None, id="cancelled"),
        pytest.param({"runStatus": "Succeeded"}, "Succeeded", None, id="succeeded"),
    ],
)
def test_terminate_ends_the_run(inputs: dict[str, Any], status: str, error: Any) -> None:
    document = definition(
        {
            "Scope": {"type": "Scope", "actions": {"Stop": {"type": "Terminate", "inputs": inputs}}},
            "After": _after(OK, Scope=["Succeeded", "Failed"]),
        }
    )
    result = asyncio.run(run(document))
    assert (result.status, result.outcome.error) == (status, error)
    assert result.action("Scope/Stop").status == "Succeeded"
    assert "After" not in result.statuses()


def test_foreach_items_concurrency_and_results() -> None:
    clock = VirtualClock()
    document = definition(
        {
            "Init": {
                "type": "InitializeVariable",
                "inputs": {"variables": [{"name": "seen", "type": "array"}]},
            },
            "Loop": {
                "type": "Foreach",
                "foreach": "@triggerBody()",
                "runAfter": {"Init": []},
                "runtimeConfiguration": {"concurrency": {"repetitions": 2}},
                "actions": {
                    "Double": {"type": "Compose", "inputs": "@mul(items('Loop'), 2)"},
                    "Keep": {
                        "type": "AppendToArrayVariable",
                        "runAfter": {"Double": []},
                        "inputs": {"name": "seen", "value": "@outputs('Double')"},
                    },
                },
            },
            "All": {"type": "Compose", "inputs": "@length(result('Loop'))", "runAfter": {"Loop": []}},
        }
    )
    result = asyncio.run(run(document, [1, 2, 3, 4, 5], services=EngineServices(clock=clock)))
    assert result.status == "Succeeded"
    assert sorted(result.journal.state.variables["seen"]) == [2, 4, 6, 8, 10]
    assert result.action("Loop#4/Double").outputs == 10
    assert result.action("All").outputs == 10


def test_foreach_concurrency_is_bounded_and_sequential_keeps_order() -> None:
    active, peak = 0, 0

    class Counting(VirtualClock):
        async def sleep(self, seconds: float) -> None:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.001)
            active -= 1

    wait = {"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Second"}}}
    for options, expected in (
        ({"runtimeConfiguration": {"concurrency": {"repetitions": 3}}}, 3),
        ({"operationOptions": "Sequential"}, 1),
    ):
        peak = 0
        document = definition(
            {"Loop": {"type": "Foreach", "foreach": "@range(0, 9)", **options, "actions": {"W": wait}}}
        )
        result = asyncio.run(run(document, services=EngineServices(clock=Counting())))
        assert result.status == "Succeeded"
        assert peak == expected


def test_foreach_fails_when_an_iteration_fails() -> None:
    document = definition(
        {
            "Loop": {
                "type": "Foreach",
                "foreach": [1, 0, 2],
                "actions": {"Div": {"type": "Compose", "inputs": "@div(10, item())"}},
            }
        }
    )
    result = asyncio.run(run(document))
    assert result.status == "Failed"
    assert result.action("Loop#1/Div").status == "Failed"
    assert result.action("Loop#2/Div").status == "Succeeded"


def _until(expression: str, limit: dict[str, Any]) -> dict[str, Any]:
    return definition(
        {
            "Init": {
                "type": "InitializeVariable",
                "inputs": {"variables": [{"name": "i", "type": "integer", "value": 0}]},
            },
            "Loop": {
                "type": "Until",
                "expression": expression,
                "limit": limit,
                "runAfter": {"Init": []},
                "actions": {
                    "Inc": {"type": "IncrementVariable", "inputs": {"name": "i"}},
                    "Pause": {
                        "type": "Wait",
                        "runAfter": {"Inc": []},
                        "inputs": {"interval": {"count": 10, "unit": "Minute"}},
                    },
                },
            },
        }
    )


@pytest.mark.parametrize(
    ("expression", "limit", "iterations", "reason"),
    [
        pytest.param("@equals(variables('i'), 3)", {"count": 60, "timeout": "PT1H"}, 3, None, id="condition"),
        pytest.param("@equals(variables('i'), 100)", {"count": 4}, 4, "count", id="count-limit"),
        pytest.param("@equals(variables('i'), 100)", {"count": 100}, 6, "timeout", id="default-timeout-PT1H"),
        pytest.param(
            "@equals(variables('i'), 100)",
            {"count": 100, "timeout": "PT25M"},
            3,
            "timeout",
            id="timeout-limit",
        ),
    ],
)
def test_until_limits(expression: str, limit: dict[str, Any], iterations: int, reason: str | None) -> None:
    result = asyncio.run(run(_until(expression, limit)))
    loop = result.action("Loop")
    assert loop.status == "Succeeded"
    assert loop.inputs["iterations"] == iterations
    assert loop.inputs.get("limitReached") == reason
    assert result.journal.state.variables["i"] == iterations


def test_wait_interval_and_until_use_the_clock() -> None:
    clock = VirtualClock()
    document = definition(
        {
            "W1": {"type": "Wait", "inputs": {"interval": {"count": 2, "unit": "Hour"}}},
            "W2": {
                "type": "Wait",
                "runAfter": {"W1": []},
                "inputs": {"until": {"timestamp": "2026-01-01T05:00:00Z"}},
            },
        }
    )
    result = asyncio.run(run(document, services=EngineServices(clock=clock)))
    assert result.status == "Succeeded"
    assert clock.sleeps == [7200.0, 3 * 3600.0]


def test_action_timeout_on_a_wait() -> None:
    clock = VirtualClock()
    document = definition(
        {
            "W": {
                "type": "Wait",
                "limit": {"timeout": "PT30S"},
                "inputs": {"interval": {"count": 5, "unit": "Minute"}},
            },
            "Handler": _after(OK, W=["TimedOut"]),
        }
    )
    result = asyncio.run(run(document, services=EngineServices(clock=clock)))
    assert result.action("W").status == "TimedOut"
    assert result.action("Handler").status == "Succeeded"
    assert result.status == "Succeeded"
    assert clock.sleeps == [30.0]


def test_definition_outputs_are_evaluated() -> None:
    document = definition(
        {"A": {"type": "Compose", "inputs": 41}},
        outputs={"answer": {"type": "Int", "value": "@add(outputs('A'), 1)"}},
    )
    result = asyncio.run(run(document))
    assert result.outcome.outputs == {"answer": {"type": "Int", "value": 42}}


def test_parameters_and_workflow_parameters() -> None:
    document = definition(
        {"A": {"type": "Compose", "inputs": "@parameters('greeting')"}},
        parameters={"greeting": {"type": "String", "defaultValue": "hi"}},
    )
    assert asyncio.run(run(document)).action("A").outputs == "hi"
    assert asyncio.run(run(document, parameters={"greeting": "yo"})).action("A").outputs == "yo"


def test_terminate_cancels_actions_running_in_parallel_branches() -> None:
    document = definition(
        {
            "Slow": {"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Hour"}}},
            "Stop": {"type": "Terminate", "inputs": {"runStatus": "Cancelled"}},
        }
    )

    class Slow(VirtualClock):
        async def sleep(self, seconds: float) -> None:
            await asyncio.sleep(10)

    result = asyncio.run(run(document, services=EngineServices(clock=Slow())))
    assert result.status == "Cancelled"
    assert result.action("Slow").status == "Cancelled"
    assert result.journal.state.records["Slow"].status == "Cancelled"
