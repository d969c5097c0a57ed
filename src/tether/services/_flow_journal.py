"""The database journal: a run's progress committed after every action, and its resume.

:func:`advance_run` is "advance this run": claim it, load what the journal holds, execute or
resume with the engine, and store how it ended. The embedded executor calls it in-process; a
Celery task can call it in a worker with the same arguments. A claim (``claimed_by``/``until``,
renewed while the run goes on) keeps two processes from advancing one run; an expired claim
means its process died, and the run is resumed by whoever claims it next.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from tether.flows import load_flow
from tether.flows.engine import (
    ActionRecord,
    EngineServices,
    RunOutcome,
    RunSpec,
    RunState,
    execute_run,
    history_view,
)
from tether.store import Database, FlowRuns, utcnow

__all__ = ["CLAIM_SECONDS", "ClaimedRun", "DbJournal", "advance_run", "claim_run", "jsonable"]

CLAIM_SECONDS = 300.0
_CANCEL_CHECK_SECONDS = 1.0


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return b64encode(value).decode()
    return str(value)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (expression results may hold Decimals or bytes)."""
    return json.loads(json.dumps(value, default=_default))


class DbJournal:
    """Commits each action record (redacted for history), variables and decisions, in one transaction.

    One transaction per journal call and nothing else on the hot path: a Response's answer rides
    with the Response action's own commit, the caller waiting on it is told at once.
    """

    def __init__(
        self,
        db: Database,
        run_id: str,
        *,
        instance: str,
        on_response: Callable[[str, dict[str, Any]], None] | None = None,
        cancelled: Callable[[str], bool] | None = None,
        saved: set[str] | None = None,
    ) -> None:
        self.db, self.run_id, self.instance = db, run_id, instance
        self._on_response = on_response
        self._cancelled = cancelled
        self._saved = set(saved or ())  # paths that already have a row (insert vs update)
        self._response: dict[str, Any] | None = None
        # The claim just read the run (not cancelled then): the first database check can wait.
        self._checked_at = time.monotonic()
        self._cancel = False

    def _save(self, record: ActionRecord, state: RunState) -> None:
        view = jsonable(history_view(record).to_json())
        progress = jsonable({"variables": state.variables, "decisions": state.decisions})
        response = jsonable(self._response) if self._response is not None else None
        with FlowRuns.journal(self.db) as runs:
            if record.path in self._saved:
                runs.update_action(self.run_id, record.path, view, record.status, record.seq)
            else:
                runs.insert_action(
                    self.run_id, record.path, view, record.status, record.seq, record.idempotency_key
                )
            runs.save_progress(self.run_id, progress, utcnow() + timedelta(seconds=CLAIM_SECONDS), response)
        self._saved.add(record.path)
        self._response = None

    async def started(self, record: ActionRecord, state: RunState) -> None:
        await asyncio.to_thread(self._save, record, state)

    async def finished(self, record: ActionRecord, state: RunState) -> None:
        await asyncio.to_thread(self._save, record, state)

    async def responded(self, response: dict[str, Any]) -> None:
        self._response = response  # stored with the Response action's record, next commit
        if self._on_response is not None:
            self._on_response(self.run_id, response)

    async def cancel_requested(self) -> bool:
        if self._cancel or (self._cancelled is not None and self._cancelled(self.run_id)):
            return True
        now = time.monotonic()
        if now - self._checked_at >= _CANCEL_CHECK_SECONDS:
            self._checked_at = now

            def read() -> bool:
                with self.db.session() as session:
                    run = FlowRuns(session).get(self.run_id)
                    return bool(run is None or run.cancel_requested)

            self._cancel = await asyncio.to_thread(read)
        return self._cancel


@dataclass(frozen=True)
class ClaimedRun:
    """What advancing a claimed run needs, read in the claim's transaction."""

    flow_id: str
    status: str
    definition: dict[str, Any]
    trigger: dict[str, Any]
    parameters: dict[str, Any]
    state: RunState


def claim_run(db: Database, run_id: str, instance: str) -> ClaimedRun | None:
    """Take the run for ``instance`` and load its journal, in one transaction; None when another
    live process has it, or it has ended."""
    now = utcnow()
    with FlowRuns.journal(db) as runs:
        row = runs.claim(run_id, instance, now, now + timedelta(seconds=CLAIM_SECONDS))
        if row is None:
            return None
        saved = row["state"] or {}
        # A run with no saved progress has no action rows yet: skip that query on the hot path.
        records = {r["path"]: ActionRecord.from_json(r) for r in runs.action_records(run_id)} if saved else {}
        state = RunState(
            records=records,
            variables=dict(saved.get("variables") or {}),
            decisions=dict(saved.get("decisions") or {}),
            response=row["response"],
        )
        return ClaimedRun(
            row["flow_id"], "Running", row["definition"], row["trigger"], row["parameters"], state
        )


def _finish(db: Database, run_id: str, outcome: RunOutcome) -> None:
    with FlowRuns.journal(db) as runs:
        runs.finish(run_id, outcome.status, jsonable(outcome.error), jsonable(outcome.outputs), utcnow())


async def advance_run(
    db: Database,
    run_id: str,
    services: EngineServices,
    *,
    instance: str,
    on_response: Callable[[str, dict[str, Any]], None] | None = None,
    cancelled: Callable[[str], bool] | None = None,
    journal_factory: Callable[..., DbJournal] = DbJournal,
) -> RunOutcome | None:
    """Claim, execute or resume, and finish one run; None when the run is not ours to advance."""
    run = await asyncio.to_thread(claim_run, db, run_id, instance)
    if run is None:
        return None
    spec = RunSpec(
        run_id=run_id,
        definition=load_flow(run.definition),
        trigger=run.trigger,
        parameters=run.parameters,
        workflow={
            "id": run.flow_id,
            "name": run.flow_id,
            "type": "Microsoft.Logic/workflows",
            "run": {"id": run_id, "name": run_id, "type": "Microsoft.Logic/workflows/runs"},
            "tags": {},
        },
    )
    journal = journal_factory(
        db,
        run_id,
        instance=instance,
        on_response=on_response,
        cancelled=cancelled,
        saved=set(run.state.records),
    )
    heartbeat = asyncio.create_task(_renew_claim(db, run_id, instance))
    try:
        outcome = await execute_run(spec, journal, services, run.state)
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
    await asyncio.to_thread(_finish, db, run_id, outcome)
    return outcome


async def _renew_claim(db: Database, run_id: str, instance: str) -> None:
    """Keep the claim alive during long actions (a Wait of hours commits nothing meanwhile)."""
    while True:
        await asyncio.sleep(CLAIM_SECONDS / 3)

        def renew() -> None:
            with db.session() as session:
                FlowRuns(session).renew_claim(run_id, instance, utcnow() + timedelta(seconds=CLAIM_SECONDS))

        await asyncio.to_thread(renew)
