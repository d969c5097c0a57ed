"""The stateless journal: the same engine, nothing kept but the engine's own state, the answer handed
over at once, and cancellation asked between actions."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.flows.engine._support import definition
from tether.flows import load_flow
from tether.flows.engine import (
    EngineServices,
    RunSpec,
    RunState,
    StatelessJournal,
    VirtualClock,
    execute_run,
    manual_trigger_result,
)

FLOW = definition(
    {
        "Double": {"type": "Compose", "inputs": "@mul(triggerBody()['n'], 2)"},
        "Reply": {
            "type": "Response",
            "runAfter": {"Double": ["Succeeded"]},
            "inputs": {"statusCode": 200, "body": "@outputs('Double')"},
        },
        "After": {"type": "Compose", "runAfter": {"Reply": ["Succeeded"]}, "inputs": "done"},
    }
)


def _run(journal: StatelessJournal, state: RunState) -> Any:
    services = EngineServices(clock=VirtualClock())
    trigger = manual_trigger_result("manual", {"n": 21}, services.clock.now())
    return asyncio.run(execute_run(RunSpec("run-1", load_flow(FLOW), trigger, {}), journal, services, state))


def test_stateless_journal_answers_at_once_and_keeps_state_only_in_the_engine() -> None:
    answers: list[tuple[dict[str, Any], list[str]]] = []
    state = RunState()
    journal = StatelessJournal(on_response=lambda answer: answers.append((answer, sorted(state.records))))
    outcome = _run(journal, state)
    assert outcome.status == "Succeeded"
    assert answers and answers[0][0]["body"] == 42
    assert "After" not in answers[0][1]  # handed over when the Response ran, before the run went on
    assert journal.response == answers[0][0]
    assert {path: r.status for path, r in state.records.items()} == {
        "Double": "Succeeded",
        "Reply": "Succeeded",
        "After": "Succeeded",
    }


def test_stateless_journal_cancels_between_actions() -> None:
    state = RunState()
    outcome = _run(StatelessJournal(cancelled=lambda: True), state)
    assert outcome.status == "Cancelled"
    assert all(r.status != "Succeeded" for r in state.records.values())
