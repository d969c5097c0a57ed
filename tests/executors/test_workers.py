"""Two ``tether worker`` processes on real Redis and PostgreSQL share the runs ``CeleryExecutor`` submits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.executors._kit import chain_of_http_calls, prepare, start_runs, statuses, wait_for_runs
from tests.executors.conftest import CountingBackend, WorkerPool
from tether import services
from tether.config import load_settings
from tether.executors import CeleryExecutor, distributed_flow_host
from tether.secrets import KeyRing

pytestmark = pytest.mark.postgres


def test_two_workers_run_submitted_runs_to_the_end(
    worker_pool: WorkerPool, counting_backend: CountingBackend
) -> None:
    db, principal = prepare(worker_pool.database_url)
    settings = load_settings(
        broker_url=worker_pool.broker_url, database_url=worker_pool.database_url, home=worker_pool.home
    )
    try:
        run_ids = start_runs(db, principal, chain_of_http_calls(counting_backend.url, 3), 10)
        began = time.monotonic()
        for name in ("w1", "w2"):
            worker_pool.start(name)
        executor = CeleryExecutor(settings)
        for run_id in run_ids:
            executor.submit(run_id)
        executor.submit(run_ids[0])  # a duplicate submit finds the run finished or leased: no second run
        executor.app.close()
        elapsed = wait_for_runs(db, run_ids, timeout=60, diagnostics=worker_pool.logs)
        assert set(statuses(db, run_ids).values()) == {"Succeeded"}
        assert len(counting_backend.snapshot()) == 30
        print(f"\n10 runs x 3 actions: {elapsed:.1f}s, {time.monotonic() - began:.1f}s with worker start-up")
    finally:
        db.close()


def _answering_flow(backend_url: str) -> dict[str, Any]:
    """Request → Compose → Http → Response: the benchmark's flow."""
    definition = chain_of_http_calls(backend_url, 1)
    definition["actions"] = {
        "Compose": {"type": "Compose", "inputs": {"echo": "@triggerBody()"}},
        "Call": {**definition["actions"]["A1"], "runAfter": {"Compose": ["Succeeded"]}},
        "Answer": {
            "type": "Response",
            "inputs": {
                "statusCode": 201,
                "body": {"composed": "@outputs('Compose')", "backend": "@body('Call')"},
            },
            "runAfter": {"Call": ["Succeeded"]},
        },
    }
    return definition


def test_a_workers_response_reaches_the_waiting_server(
    worker_pool: WorkerPool, counting_backend: CountingBackend
) -> None:
    db, principal = prepare(worker_pool.database_url)
    settings = load_settings(
        broker_url=worker_pool.broker_url, database_url=worker_pool.database_url, home=worker_pool.home
    )
    worker_pool.start("w1")
    services.create_flow(db, principal, "team", _answering_flow(counting_backend.url), name="answer")
    runtime = distributed_flow_host(db, settings, keyring=KeyRing.from_settings(settings), scheduler=False)

    async def call() -> list[dict[str, Any] | None]:
        await runtime.start()
        try:
            answers = []
            for n in range(3):
                run = services.start_run(db, principal, "team", "answer", body={"n": n})
                waiting = runtime.expect_response(run.id)
                runtime.submit(run.id)
                answers.append(await runtime.wait_response(run.id, waiting, timeout=60))
            return answers
        finally:
            await runtime.stop()

    try:
        answers = asyncio.run(call())
        assert [a and a["statusCode"] for a in answers] == [201, 201, 201], worker_pool.logs()
        assert [a and a["body"]["composed"] for a in answers] == [{"echo": {"n": n}} for n in range(3)]
        assert all(a and a["body"]["backend"] == {"ok": True, "action": "A1"} for a in answers)
    finally:
        db.close()
