"""Stateless runs in the serving process: the run time limit, and a stop that loses runs in memory
without writing them (as Logic Apps Standard does)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select

from tether.hosting import FlowHost
from tether.secrets import KeyRing
from tether.services import create_flow, get_run, list_runs
from tether.services._flow_runs import trigger_signature
from tether.store import Database, FlowRun

NAPPING = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {
        "Nap": {"type": "Wait", "inputs": {"interval": {"count": 30, "unit": "Second"}}},
        "Reply": {"type": "Response", "runAfter": {"Nap": ["Succeeded"]}, "inputs": {"body": "late"}},
    },
}


async def _fire(runtime: FlowHost, flow_id: str) -> tuple[str, Any]:
    sig = trigger_signature(runtime.signing_key, flow_id, "manual")
    options = {"sig": sig, "method": "POST", "headers": {}, "queries": {}, "body": {}}
    return await runtime.fire_request(flow_id, "manual", **options)


async def _until_settled(runtime: FlowHost) -> None:
    deadline = time.monotonic() + 30
    while runtime.stateless.active:
        assert time.monotonic() < deadline, "the stateless run did not end within 30 s"
        await asyncio.sleep(0.01)


def test_a_stateless_run_past_its_time_limit_is_recorded_as_failed(db: Database, team: str, admin) -> None:
    flow = create_flow(db, admin, team, NAPPING, name="nap", kind="Stateless")
    keyring = KeyRing.from_keys(KeyRing.generate_key())

    async def go() -> tuple[str, Any]:
        runtime = FlowHost(db, keyring=keyring, scheduler=False)
        runtime.stateless.limit = 0.3
        await runtime.start()
        try:
            run_id, future = await _fire(runtime, flow.id)
            answer = await runtime.wait_response(run_id, future, timeout=30)
            await _until_settled(runtime)
            return run_id, answer
        finally:
            await runtime.stop()

    run_id, answer = asyncio.run(go())
    assert answer is None  # the Response never ran: the caller is not kept waiting past the limit
    detail = get_run(db, admin, team, "nap", run_id)
    assert detail.run.status == "Failed"
    assert detail.run.error is not None and detail.run.error["code"] == "StatelessRunTimedOut"
    assert [(a.name, a.status) for a in detail.actions] == [("Nap", "Cancelled")]


def test_stopping_the_server_drops_stateless_runs_in_flight(db: Database, team: str, admin) -> None:
    flow = create_flow(db, admin, team, NAPPING, name="nap", kind="Stateless", run_history="all")
    keyring = KeyRing.from_keys(KeyRing.generate_key())

    async def go() -> Any:
        runtime = FlowHost(db, keyring=keyring, scheduler=False)
        await runtime.start()
        try:
            _run_id, future = await _fire(runtime, flow.id)
            assert runtime.stateless.active == 1
        finally:
            began = time.monotonic()
            await runtime.stop()
            assert time.monotonic() - began < 10  # the 30 s Wait did not hold the stop
        return future.result()

    assert asyncio.run(go()) is None  # the waiting caller is released
    assert list_runs(db, admin, team, "nap") == []
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(FlowRun)) == 0
