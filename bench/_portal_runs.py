"""The run page's share of the portal benchmark: one flow with 10,000 runs in the database.

One run is made for real (the engine runs it: a Request trigger, a Foreach of five iterations, a
condition, Compose actions — 9 action instances with their inputs and outputs), then copied,
action rows included, under new ids until the flow has ``RUNS`` runs: what a busy flow's history
looks like to the database when a user opens one of its runs.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from tether import services
from tether.flows.engine import EngineServices
from tether.hosting import advance_run
from tether.services import Principal
from tether.store import Database, FlowRun, RunAction, new_id

RUNS = 10_000
FLOW = "bench-runs"
_BATCH = 500

DEFINITION: dict[str, Any] = {
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": {"type": "object"}}}},
    "actions": {
        "Each": {
            "type": "Foreach",
            "foreach": "@triggerBody()?['items']",
            "actions": {"Shape": {"type": "Compose", "inputs": {"item": "@item()", "at": "@utcNow()"}}},
        },
        "Check": {
            "type": "If",
            "runAfter": {"Each": ["Succeeded"]},
            "expression": {"greater": ["@length(triggerBody()?['items'])", 3]},
            "actions": {"Many": {"type": "Compose", "inputs": "@concat('items: ', string(triggerBody()))"}},
            "else": {"actions": {"Few": {"type": "Compose", "inputs": "few"}}},
        },
        "Summary": {
            "type": "Compose",
            "runAfter": {"Check": ["Succeeded"]},
            "inputs": {"count": "@length(triggerBody()?['items'])", "result": "@outputs('Each')"},
        },
    },
}


def populate_runs(database: Database, admin: Principal, *, runs: int = RUNS) -> str:
    """Make the flow and its runs; returns the path of the real run's page."""
    services.create_flow(database, admin, "default", DEFINITION, name=FLOW)
    body = {"items": [{"sku": f"A-{i}", "quantity": i, "note": "x" * 40} for i in range(5)]}
    real = services.start_run(database, admin, "default", FLOW, body=body)

    async def advance() -> None:
        engine = EngineServices()
        try:
            await advance_run(database, real.id, engine, instance="bench")
        finally:
            await engine.aclose()

    asyncio.run(advance())
    with database.session() as session:
        run = session.get(FlowRun, real.id)
        assert run is not None and run.status == "Succeeded", run and run.status
        template = {c.name: getattr(run, c.name) for c in FlowRun.__table__.columns}
        actions = [
            {c.name: getattr(a, c.name) for c in RunAction.__table__.columns}
            for a in session.scalars(select(RunAction).where(RunAction.run_id == real.id))
        ]
    for start in range(1, runs, _BATCH):
        run_rows, action_rows = [], []
        for index in range(start, min(start + _BATCH, runs)):
            run_id = new_id()
            moved = timedelta(seconds=index)  # spread over time, as the history's order needs
            run_rows.append(
                {
                    **template,
                    "id": run_id,
                    "created_at": template["created_at"] - moved,
                    "started_at": template["started_at"] - moved,
                    "ended_at": template["ended_at"] - moved,
                }
            )
            action_rows.extend({**a, "id": new_id(), "run_id": run_id} for a in actions)
        with database.session() as session:
            session.execute(insert(FlowRun.__table__), run_rows)
            session.execute(insert(RunAction.__table__), action_rows)
    return f"/e/default/flows/{FLOW}/runs/{real.id}"
