"""One task per run segment: a run advanced by a ``tether worker`` (threads pool, all runs on one
event loop) leaves the same history as the same run advanced in-process by the embedded mode.

Real Redis, real PostgreSQL, a real worker subprocess and a counting HTTP backend. The flow mixes
what the journal treats differently (side-effect-free actions that ride with the next commit,
Http calls committed before and after, variables, a Condition's branches, a Response), so a
segment that skipped or reordered a commit would show as a different history.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.executors._kit import prepare, wait_for_runs
from tests.executors.conftest import CountingBackend, WorkerPool
from tether import hosting, services
from tether.config import load_settings
from tether.executors import CeleryExecutor, engine_services
from tether.flows.engine import idempotency_key
from tether.secrets import KeyRing
from tether.store import FlowRuns

pytestmark = pytest.mark.postgres

# Times differ between two runs; idempotency keys too (derived from the run id, checked apart).
VOLATILE = {"start", "end", "startTime", "endTime", "Date", "date", "idempotency_key", "Idempotency-Key"}


def _mixed_flow(backend_url: str) -> dict[str, Any]:
    def call(name: str, after: str) -> dict[str, Any]:
        return {
            "type": "Http",
            "inputs": {"method": "POST", "uri": f"{backend_url}/call", "body": {"action": name}},
            "runAfter": {after: ["Succeeded"]},
        }

    return {
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/"
        "workflowdefinition.json#",
        "contentVersion": "1.0.0.0",
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {}}},
        "actions": {
            "Count": {
                "type": "InitializeVariable",
                "inputs": {"variables": [{"name": "count", "type": "integer", "value": 1}]},
                "runAfter": {},
            },
            "Shape": {
                "type": "Compose",
                "inputs": {"n": "@triggerBody()?['n']"},
                "runAfter": {"Count": ["Succeeded"]},
            },
            "First": call("First", "Shape"),
            "More": {
                "type": "IncrementVariable",
                "inputs": {"name": "count", "value": 2},
                "runAfter": {"First": ["Succeeded"]},
            },
            "Check": {
                "type": "If",
                "expression": {"greater": ["@variables('count')", 2]},
                "actions": {"Big": {"type": "Compose", "inputs": "@variables('count')", "runAfter": {}}},
                "else": {"actions": {"Small": {"type": "Compose", "inputs": "small", "runAfter": {}}}},
                "runAfter": {"More": ["Succeeded"]},
            },
            "Second": call("Second", "Check"),
            "Answer": {
                "type": "Response",
                "inputs": {
                    "statusCode": 200,
                    "body": {"shape": "@outputs('Shape')", "second": "@body('Second')"},
                },
                "runAfter": {"Second": ["Succeeded"]},
            },
        },
    }


def _stable(value: Any, run_id: str) -> Any:
    """``value`` without what differs between two runs of one flow: times, dates, the run's id."""
    if isinstance(value, dict):
        return {k: _stable(v, run_id) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v, run_id) for v in value]
    if isinstance(value, str):
        return value.replace(run_id, "<run>")
    return value


def _history(db: Any, run_id: str) -> dict[str, Any]:
    with db.session() as session:
        runs = FlowRuns(session)
        run = runs.get(run_id)
        assert run is not None
        actions = [
            {
                "path": a.path,
                "status": a.status,
                "seq": a.seq,
                "key_matches": a.idempotency_key in (None, idempotency_key(run_id, a.path)),
                "record": _stable(a.record, run_id),
            }
            for a in runs.actions(run_id)
        ]
        return {
            "status": run.status,
            "outputs": _stable(run.outputs, run_id),
            "response": _stable(run.response, run_id),
            "actions": actions,
        }


def test_a_worker_run_leaves_the_embedded_runs_history(
    worker_pool: WorkerPool, counting_backend: CountingBackend
) -> None:
    db, principal = prepare(worker_pool.database_url)
    settings = load_settings(
        broker_url=worker_pool.broker_url, database_url=worker_pool.database_url, home=worker_pool.home
    )
    try:
        services.create_flow(db, principal, "team", _mixed_flow(counting_backend.url), name="mixed")
        on_celery = services.start_run(db, principal, "team", "mixed", body={"n": 7}).id
        embedded = services.start_run(db, principal, "team", "mixed", body={"n": 7}).id

        worker_pool.start("w1", pool="threads", concurrency=4)
        executor = CeleryExecutor(settings)
        executor.submit(on_celery)
        executor.app.close()

        async def advance_here() -> None:
            engine, connectors = engine_services(db, settings)
            try:
                await hosting.advance_run(
                    db, embedded, engine, instance="embedded-test", keyring=KeyRing.from_settings(settings)
                )
            finally:
                await engine.aclose()
                await connectors.aclose()

        asyncio.run(advance_here())
        wait_for_runs(db, [on_celery, embedded], timeout=60, diagnostics=worker_pool.logs)

        celery_history, embedded_history = _history(db, on_celery), _history(db, embedded)
        assert celery_history["status"] == "Succeeded", (celery_history, worker_pool.logs())
        paths = [a["path"] for a in celery_history["actions"]]
        assert paths == ["Count", "Shape", "First", "More", "Check", "Check/Big", "Second", "Answer"]
        assert all(a["key_matches"] for a in celery_history["actions"])
        for on_worker, here in zip(celery_history["actions"], embedded_history["actions"], strict=True):
            assert on_worker == here, f"{on_worker}\n{here}"
        assert celery_history == embedded_history
        # Each Http action reached the backend once per run: nothing repeated, nothing skipped.
        keys = [key for key, _action in counting_backend.snapshot()]
        for run_id in (on_celery, embedded):
            assert sorted(k for k in keys if k in {idempotency_key(run_id, p) for p in paths}) == sorted(
                idempotency_key(run_id, p) for p in ("First", "Second")
            )
    finally:
        db.close()
