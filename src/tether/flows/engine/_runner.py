"""The run engine: walks a definition's action graph, honouring runAfter, and journals every action.

Within a scope, every action whose predecessors have finished with an accepted status starts (in
parallel when several are ready); one whose ``runAfter`` is not satisfied is ``Skipped``, which in
turn may satisfy or skip its successors. A scope — and the run — fails when one of its actions
failed or timed out and no sibling runs after that status (an unhandled failure), as in Logic Apps.

The same code resumes a run: records already finished in the journal are reused without running,
and the action that was in flight runs again with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tether import telemetry
from tether.errors import InputError
from tether.flows._definition import ActionSpec, FlowDefinition
from tether.flows.engine._durations import duration_seconds
from tether.flows.engine._errors import ActionFailure, ActionTimedOut, RunCancelled, RunTerminated
from tether.flows.engine._frame import Frame
from tether.flows.engine._host_rules import NO_HOST_RULES, HostRules
from tether.flows.engine._journal import RunJournal
from tether.flows.engine._model import ActionRecord, RunOutcome, RunState
from tether.flows.engine._redact import secure_sides
from tether.flows.engine._services import EngineServices
from tether.flows.engine._step import UNSET, Outcome, Step
from tether.flows.engine.actions import ACTIONS
from tether.flows.expressions import ExpressionContext, evaluate
from tether.runtime import NetworkPolicy

__all__ = ["Run", "RunSpec", "execute_run", "idempotency_key"]

_STATUS_NAMES = {s.lower(): s for s in ("Succeeded", "Failed", "Skipped", "TimedOut")}


def idempotency_key(run_id: str, path: str) -> str:
    """Stable per run and action instance: a resumed run sends the same key for the same call."""
    return hashlib.sha256(f"{run_id}\x00{path}".encode()).hexdigest()[:40]


@dataclass
class RunSpec:
    """Everything one run reads: the definition (as saved when the run began) and its trigger result."""

    run_id: str
    definition: FlowDefinition
    trigger: Mapping[str, Any]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    workflow: Mapping[str, Any] = field(default_factory=dict)
    # The environment's variables: what appSetting() reads, and parameters() for names the
    # definition doesn't declare (Standard definitions keep those in parameters.json / app settings).
    app_settings: Mapping[str, str] = field(default_factory=dict)
    # Where the run's Http actions may connect: the flow's environment's policy (the SSRF guard).
    # None, for the engine used as a library, lets them reach any address.
    network_policy: NetworkPolicy | None = None
    # The environment's data policy endpoint rules for Http actions (checked before each request).
    http_rules: HostRules = NO_HOST_RULES


class Run:
    """One execution of a definition; create it, then ``await execute()``."""

    def __init__(
        self, spec: RunSpec, journal: RunJournal, services: EngineServices, state: RunState | None = None
    ) -> None:
        self.spec, self.journal, self.services = spec, journal, services
        self.state = state or RunState()
        self._seq = self.state.next_seq()
        self.root = Frame()

    def context(self, frame: Frame, current: Mapping[str, Any] | None = None) -> ExpressionContext:
        return ExpressionContext(
            parameters=self.spec.parameters,
            variables=self.state.variables,
            trigger=self.spec.trigger,
            actions=frame.actions(),
            results=frame.scopes(),
            current_action=current,
            item=frame.item,
            items=frame.items,
            iteration_indexes=frame.iteration_indexes,
            workflow=self.spec.workflow,
            app_settings=self.spec.app_settings,
            clock=self.services.clock.now,
            rng=self.services.rng,
        )

    async def execute(self) -> RunOutcome:
        """Run (or resume) to the end; the outcome's status is Succeeded, Failed or Cancelled."""
        try:
            status = await self.run_scope(self.spec.definition.actions, self.root, "")
        except RunTerminated as stop:
            await self._cancel_unfinished()
            return RunOutcome(stop.status, stop.error, self._outputs(), self.state.response)
        except RunCancelled:
            await self._cancel_unfinished()
            return RunOutcome(
                "Cancelled",
                {"code": "Cancelled", "message": "The run was cancelled."},
                {},
                self.state.response,
            )
        error = None
        if status != "Succeeded":
            status = "Failed"
            error = {"code": "ActionFailed", "message": "An action failed. No dependent actions succeeded."}
        return RunOutcome(status, error, self._outputs(), self.state.response)

    async def _cancel_unfinished(self) -> None:
        """Actions still running in other branches when the run stopped end as Cancelled in history."""
        for record in list(self.state.records.values()):
            if record.status == "Running":
                record.status, record.end, record.code = "Cancelled", self.services.clock.now(), "Cancelled"
                await self.journal.finished(record, self.state)

    def _outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for name, declared in self.spec.definition.outputs.items():
            if isinstance(declared, Mapping):
                try:
                    value = evaluate(declared.get("value"), self.context(self.root))
                except InputError as exc:
                    value = {"error": exc.message}
                outputs[name] = {"type": declared.get("type"), "value": value}
        return outputs

    async def run_scope(self, actions: Mapping[str, ActionSpec], frame: Frame, prefix: str) -> str:
        """Run one scope's actions by their runAfter graph; returns the scope's status."""
        statuses: dict[str, str] = {}
        waiting = dict(actions)
        running: dict[asyncio.Task[ActionRecord], str] = {}
        try:
            while waiting or running:
                ready = []
                changed = True
                while changed:  # a skip may decide its successors at once
                    changed = False
                    for name, spec in list(waiting.items()):
                        deps = [d for d in spec.run_after if d in actions]
                        if not all(d in statuses for d in deps):
                            continue
                        del waiting[name]
                        changed = True
                        if all(statuses[d] in _accepted(spec.run_after[d]) for d in deps):
                            ready.append(spec)
                        else:
                            statuses[name] = (await self._skip(spec, frame, prefix, statuses)).status
                if not ready and not running:
                    break  # what is left waits on a cycle; validation reports those
                if len(ready) == 1 and not running:
                    # The common, sequential case: no task needed.
                    record = await self.run_action(ready[0], frame, prefix)
                    statuses[record.name] = record.status
                    continue
                for spec in ready:
                    running[asyncio.create_task(self.run_action(spec, frame, prefix))] = spec.name
                done, _pending = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    name = running.pop(task)
                    statuses[name] = task.result().status
        except BaseException:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        return scope_status(actions, statuses)

    async def _skip(
        self, spec: ActionSpec, frame: Frame, prefix: str, statuses: Mapping[str, str]
    ) -> ActionRecord:
        path = prefix + spec.name
        existing = self.state.records.get(path)
        if existing is not None and existing.finished:
            frame.results[spec.name] = existing.result()
            return existing
        unmet = next(
            d for d in spec.run_after if d in statuses and statuses[d] not in _accepted(spec.run_after[d])
        )
        expected = ", ".join(sorted(_accepted(spec.run_after[unmet])))
        now = self.services.clock.now()
        record = ActionRecord(
            path=path,
            name=spec.name,
            type=spec.type,
            parent=prefix,
            status="Skipped",
            seq=self._next(),
            start=now,
            end=now,
            code="ActionSkipped",
            error={
                "code": "ActionConditionFailed",
                "message": f"The execution of template action '{spec.name}' is skipped: the 'runAfter' "
                f"condition for action '{unmet}' is not satisfied. Expected status values "
                f"'{expected}' and actual value '{statuses[unmet]}'.",
            },
        )
        await self.journal.finished(record, self.state)
        self.state.records[path] = record
        frame.results[spec.name] = record.result()
        return record

    def _next(self) -> int:
        self._seq += 1
        return self._seq - 1

    async def run_action(self, spec: ActionSpec, frame: Frame, prefix: str) -> ActionRecord:
        """Run one action instance (or reuse its finished record when resuming)."""
        path = prefix + spec.name
        existing = self.state.records.get(path)
        if existing is not None and existing.finished:
            self._publish(existing, frame)
            return existing
        if await self.journal.cancel_requested():
            raise RunCancelled()
        kind = ACTIONS[spec.type]
        secure_in, secure_out = secure_sides(spec.raw)
        now = self.services.clock.now()
        record = ActionRecord(
            path=path,
            name=spec.name,
            type=spec.type,
            parent=prefix,
            seq=self._next(),
            start=now,
            idempotency_key=idempotency_key(self.spec.run_id, path),
            secure_inputs=secure_in,
            secure_outputs=secure_out,
        )
        if existing is not None:  # in flight when the run stopped: same key, same place in history
            record.seq, record.start, record.idempotency_key = (
                existing.seq,
                existing.start,
                existing.idempotency_key,
            )
        self.state.records[path] = record
        if kind.side_effects:
            await self.journal.started(record, self.state)
        action_span = telemetry.span("flow.action", {"tether.action": path, "tether.action_type": spec.type})
        try:
            timeout = _timeout(spec) if not kind.owns_limit else None
            step = Step(self, spec, record, frame, now + timedelta(seconds=timeout) if timeout else None)
            with action_span:
                if timeout:
                    outcome = await asyncio.wait_for(kind.handler(step), timeout)
                else:
                    outcome = await kind.handler(step)
                action_span.set("tether.action.status", outcome.status)
        except ActionFailure as failure:
            outcome = Outcome(
                outputs=failure.outputs,
                status=failure.status,
                code=failure.code,
                error={"code": failure.code, "message": failure.message},
            )
        except TimeoutError:
            timed_out = ActionTimedOut()
            outcome = Outcome(
                status="TimedOut",
                code=timed_out.code,
                error={"code": timed_out.code, "message": timed_out.message},
            )
        except InputError as exc:  # expression errors and bad inputs fail this action only
            outcome = Outcome(
                status="Failed",
                code="InvalidTemplate",
                error={"code": "InvalidTemplate", "message": exc.message},
            )
        except RunTerminated as stop:
            # The Terminate action itself succeeded; containers it ended take the run's status.
            record.status = "Succeeded" if spec.type == "Terminate" else stop.status
            record.end = self.services.clock.now()
            await self.journal.finished(record, self.state)
            raise
        record.status, record.code, record.error = outcome.status, outcome.code, outcome.error
        record.outputs = outcome.outputs
        if outcome.inputs is not UNSET:
            record.inputs = outcome.inputs
        record.end = self.services.clock.now()
        await self.journal.finished(record, self.state)
        self._publish(record, frame)
        return record

    def _publish(self, record: ActionRecord, frame: Frame) -> None:
        frame.results[record.name] = record.result()
        if ACTIONS[record.type].container:
            frame.scope_results[record.name] = self.children_results(record.path)

    def children_results(self, path: str) -> list[dict[str, Any]]:
        """``result('x')`` of a container: its direct actions' results (every iteration's, for loops)."""
        direct, looped = path + "/", path + "#"
        found = [
            r
            for r in self.state.records.values()
            if r.parent == direct
            or (r.parent.startswith(looped) and r.parent.count("/") == path.count("/") + 1)
        ]
        return [r.result() for r in sorted(found, key=lambda r: r.seq)]


def _accepted(statuses: tuple[str, ...]) -> frozenset[str]:
    if not statuses:
        return frozenset({"Succeeded"})
    return frozenset(_STATUS_NAMES.get(s.lower(), s) for s in statuses)


def scope_status(actions: Mapping[str, ActionSpec], statuses: Mapping[str, str]) -> str:
    """Failed when an action failed or timed out and no sibling runs after that; Cancelled if any was."""
    for name, status in statuses.items():
        if status in ("Failed", "TimedOut"):
            handled = any(
                name in s.run_after and status in _accepted(s.run_after[name]) for s in actions.values()
            )
            if not handled:
                return "Failed"
    if any(s == "Cancelled" for s in statuses.values()):
        return "Cancelled"
    return "Succeeded"


def _timeout(spec: ActionSpec) -> float | None:
    limit = spec.raw.get("limit")
    text = limit.get("timeout") if isinstance(limit, Mapping) else None
    return duration_seconds(str(text)) if text else None


async def execute_run(
    spec: RunSpec, journal: RunJournal, services: EngineServices, state: RunState | None = None
) -> RunOutcome:
    """Run or resume one run: the entry point executors (embedded or Celery) call."""
    flow = str(spec.workflow.get("id") or "")
    with (
        telemetry.running(spec.run_id),  # the run's log lines and spans name it
        telemetry.span("flow.run", {"tether.run_id": spec.run_id, "tether.flow_id": flow or None}) as span,
    ):
        outcome = await Run(spec, journal, services, state).execute()
        span.set("tether.run.status", outcome.status)
    telemetry.count_run(flow, outcome.status)
    return outcome
