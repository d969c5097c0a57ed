"""Stateless runs: a flow of kind Stateless runs in memory, and only what its setting keeps is stored.

The engine is the stateful one; only the journal differs (``StatelessJournal`` commits nothing).
So a Request → Compose → Compose → Response run writes nothing at all when it succeeds: no run
row, no action rows, no progress; the caller's answer comes straight from the Response action.
When the run ends, :class:`StatelessRuns` asks the flow's :class:`RunHistory` whether to keep it
(a failure always; one success in N when sampled; every run with ``all``) and then writes the
whole run — its row, every action record as history shows it, and how it ended — in one
transaction through the process's journal writer. ``tether flow runs`` shows those runs as it
shows stateful ones.

A stateless run is not resumed after its process dies and cannot outlive
``STATELESS_RUN_SECONDS`` (Logic Apps Standard draws the same lines).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tether.flows.engine import (
    EngineServices,
    RunOutcome,
    RunState,
    StatelessJournal,
    execute_run,
)
from tether.hosting._journal import ClaimedRun, _event_error, prepare_run, stored_action
from tether.hosting._writer import JournalWriter
from tether.runtime import install_log_redaction, redacting
from tether.secrets import KeyRing
from tether.services.hosted import (
    SEALED,
    STATELESS_RUN_SECONDS,
    RequestTarget,
    RunHistory,
    RunPrivacy,
    encode,
    record_run_end,
    run_values,
    unseal,
)
from tether.store import Database, FlowRuns, utcnow

__all__ = ["StatelessRuns"]

_log = logging.getLogger("tether.flows")


class StatelessRuns:
    """The stateless runs of one serving process: started from a Request, kept only as configured.

    Counts each flow's successful runs (for ``sampled:N``) in this process; stopping cancels the
    runs still going (a stateless run does not survive its process).
    """

    def __init__(
        self, db: Database, services: EngineServices, writer: JournalWriter, keyring: KeyRing | None = None
    ) -> None:
        self.db, self.services, self.writer = db, services, writer
        self.keyring = keyring or getattr(services.connectors, "keyring", None)
        self.limit = STATELESS_RUN_SECONDS  # how long a run may last (tests shorten it)
        self._successes: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(
        self,
        target: RequestTarget,
        trigger: dict[str, Any],
        run_id: str,
        journal: StatelessJournal,
        *,
        ended: Callable[[], None],
    ) -> None:
        """Run ``target`` in a task of its own; ``ended`` is called however the run ends."""
        work = self._run(target, trigger, run_id, journal, ended)
        task = asyncio.create_task(work, name=f"stateless-{run_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def active(self) -> int:
        """How many stateless runs are going in this process (stored ones count until stored)."""
        return len(self._tasks)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(
        self,
        target: RequestTarget,
        trigger: dict[str, Any],
        run_id: str,
        journal: StatelessJournal,
        ended: Callable[[], None],
    ) -> None:
        started = utcnow()
        state = RunState()
        try:
            outcome, privacy = await self._execute(target, trigger, run_id, journal, state)
            history = RunHistory.parse(target.run_history)
            successes = self._successes.get(target.flow_id, 0)
            if outcome.status == "Succeeded":
                successes += 1
                self._successes[target.flow_id] = successes
            if history.keeps(outcome.status, successes):
                await self._store(target, trigger, run_id, started, state, outcome, journal.response, privacy)
        except Exception:  # the run's caller is gone; the log is the only place left to tell
            _log.exception("stateless run %s of flow %s could not be stored", run_id, target.flow_id)
        finally:
            ended()

    async def _execute(
        self,
        target: RequestTarget,
        trigger: dict[str, Any],
        run_id: str,
        journal: StatelessJournal,
        state: RunState,
    ) -> tuple[RunOutcome, RunPrivacy]:
        install_log_redaction()  # idempotent: the filter that masks what ``redacting`` names below
        # Fresh parameters per run (an action must not change what the next run reads).
        parameters = json.loads(target.parameters_text)
        if SEALED in target.parameters_text:  # secure parameters: the engine needs them real
            parameters = await asyncio.to_thread(unseal, parameters, self.keyring)
        run = ClaimedRun(target.flow_id, target.definition, trigger, parameters, state)
        spec, privacy = await prepare_run(self.db, run_id, run, self.services, self.keyring)
        try:
            async with asyncio.timeout(self.limit):
                with redacting(privacy.secrets):
                    return await execute_run(spec, journal, self.services, state), privacy
        except TimeoutError:
            message = f"a stateless run lasts at most {self.limit:g} s; make the flow Stateful"
            error = {"code": "StatelessRunTimedOut", "message": message}
        except Exception:
            _log.exception("stateless run %s of flow %s stopped", run_id, target.flow_id)
            message = "the run stopped on an internal error; the server log has the details"
            error = {"code": "InternalError", "message": message}
        return RunOutcome(status="Failed", error=error), privacy

    async def _store(
        self,
        target: RequestTarget,
        trigger: dict[str, Any],
        run_id: str,
        started: datetime,
        state: RunState,
        outcome: RunOutcome,
        response: dict[str, Any] | None,
        privacy: RunPrivacy,
    ) -> None:
        """The whole run in one transaction, as a stateful run's history would show it (secrets
        masked and run data sealed as the stateful journal stores them)."""
        values = run_values(target, trigger, run_id=run_id, now=started, keyring=self.keyring)
        plain = {"variables": state.variables, "decisions": state.decisions}
        values.update(status="Running", started_at=started, state=encode(privacy.stored_state(plain)))
        ended = utcnow()
        for record in state.records.values():
            if not record.finished:  # in flight when the run was stopped (its time limit)
                record.status, record.end = "Cancelled", ended
        actions = [stored_action(r, privacy) for r in sorted(state.records.values(), key=lambda r: r.seq)]
        error, outputs = encode(privacy.stored(outcome.error)), encode(privacy.stored(outcome.outputs))
        answer = encode(privacy.stored(response)) if response is not None else None
        event_error = _event_error(outcome, privacy)

        def work(runs: FlowRuns) -> None:
            runs.insert_run(values)
            for path, view, status, seq, key in actions:
                runs.insert_action(run_id, path, view, status, seq, key)
            runs.finish(run_id, outcome.status, error, outputs, ended, response=answer)
            record_run_end(runs.session, target.flow_id, run_id, outcome.status, event_error, stateless=True)

        await self.writer.write(work)
