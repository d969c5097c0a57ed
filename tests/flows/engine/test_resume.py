"""Durability: a run killed mid-way resumes from its journal; finished actions are not repeated and
the action in flight is repeated with the same Idempotency-Key (counted by a real HTTP backend)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.flows.engine._support import Backend, definition, run
from tether.flows.engine import EngineServices, MemoryJournal, SimulatedCrash, VirtualClock


class CrashAfterSend(MemoryJournal):
    """Dies after the HTTP call left but before its result was committed (the worst moment)."""

    def __init__(self, crash_on: str) -> None:
        super().__init__()
        self.crash_on = crash_on

    async def finished(self, record, state) -> None:  # type: ignore[no-untyped-def]
        if record.path == self.crash_on:
            raise SimulatedCrash(f"killed while {record.path} was in flight")
        await super().finished(record, state)


def _document(backend: Backend, key: str) -> dict:
    return definition(
        {
            "Init": {
                "type": "InitializeVariable",
                "inputs": {"variables": [{"name": "n", "type": "integer", "value": 0}]},
            },
            "First": {
                "type": "Http",
                "runAfter": {"Init": []},
                "inputs": {"method": "POST", "uri": f"{backend.url}/echo/{key}/1"},
            },
            "Count": {"type": "IncrementVariable", "runAfter": {"First": []}, "inputs": {"name": "n"}},
            "Loop": {
                "type": "Foreach",
                "foreach": [1, 2],
                "runAfter": {"Count": []},
                "runtimeConfiguration": {"concurrency": {"repetitions": 1}},
                "actions": {
                    "Each": {
                        "type": "Http",
                        "inputs": {"method": "POST", "uri": f"{backend.url}/echo/{key}/loop"},
                    }
                },
            },
            "Second": {
                "type": "Http",
                "runAfter": {"Loop": []},
                "inputs": {"method": "POST", "uri": f"{backend.url}/echo/{key}/2"},
            },
            "Done": {"type": "Compose", "runAfter": {"Second": []}, "inputs": "@variables('n')"},
        }
    )


@pytest.mark.parametrize("crash_on", ["Second", "Loop#1/Each", "First"])
def test_resume_after_crash(backend: Backend, crash_on: str) -> None:
    key = uuid.uuid4().hex[:8]
    document = _document(backend, key)
    crashing = CrashAfterSend(crash_on)
    with pytest.raises(SimulatedCrash):
        asyncio.run(run(document, journal=crashing, run_id=f"run-{key}"))
    saved = crashing.snapshot()
    assert saved.records[crash_on].status == "Running"  # journaled as in flight before it was sent
    resumed = MemoryJournal(saved)
    result = asyncio.run(run(document, journal=resumed, state=resumed.snapshot(), run_id=f"run-{key}"))
    assert result.status == "Succeeded", result.statuses()
    assert result.action("Done").outputs == 1  # the increment ran once
    paths = [r.path for r in backend.requests if f"/{key}/" in r.path]
    sent = {"First": f"/echo/{key}/1", "Second": f"/echo/{key}/2", "Loop#1/Each": f"/echo/{key}/loop"}
    expected = {f"/echo/{key}/1": 1, f"/echo/{key}/loop": 2, f"/echo/{key}/2": 1}
    expected[sent[crash_on]] += 1  # only the action in flight is sent again ...
    assert {p: paths.count(p) for p in expected} == expected
    keys = [r.headers["Idempotency-Key"] for r in backend.requests if r.path == sent[crash_on]]
    if crash_on == "Loop#1/Each":
        keys = keys[1:]  # iteration 0 sent once with its own key
    assert (
        len(keys) == 2 and keys[0] == keys[1] == result.action(crash_on).idempotency_key
    )  # ... with the same key


def test_resume_replays_decisions_not_current_variables() -> None:
    """An If decided before the crash takes the same branch on resume, even though a variable changed."""
    document = definition(
        {
            "Init": {
                "type": "InitializeVariable",
                "inputs": {"variables": [{"name": "flag", "type": "boolean", "value": True}]},
            },
            "If": {
                "type": "If",
                "expression": "@variables('flag')",
                "runAfter": {"Init": []},
                "actions": {
                    "Flip": {"type": "SetVariable", "inputs": {"name": "flag", "value": False}},
                    "Pause": {
                        "type": "Wait",
                        "runAfter": {"Flip": []},
                        "inputs": {"interval": {"count": 1, "unit": "Second"}},
                    },
                },
                "else": {"actions": {"Wrong": {"type": "Compose", "inputs": 1}}},
            },
        }
    )
    crashing = CrashAfterSend("If/Pause")
    with pytest.raises(SimulatedCrash):
        asyncio.run(run(document, journal=crashing))
    saved = crashing.snapshot()
    result = asyncio.run(run(document, journal=MemoryJournal(saved), state=saved))
    assert result.status == "Succeeded"
    assert "If/Wrong" not in result.statuses()


def test_cancel_stops_before_the_next_action() -> None:
    class Cancelling(MemoryJournal):
        async def finished(self, record, state) -> None:  # type: ignore[no-untyped-def]
            await super().finished(record, state)
            if record.path == "A":
                self.cancel = True

    document = definition(
        {"A": {"type": "Compose", "inputs": 1}, "B": {"type": "Compose", "inputs": 2, "runAfter": {"A": []}}}
    )
    result = asyncio.run(run(document, journal=Cancelling(), services=EngineServices(clock=VirtualClock())))
    assert result.status == "Cancelled"
    assert list(result.statuses()) == ["A"]
