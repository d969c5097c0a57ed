"""Polling connector triggers (``ApiConnection``/``OpenApiConnection``): REFERENCE.md §5's protocol.

The first call establishes state; ``202`` + ``Location`` + ``Retry-After`` means "nothing new, ask
there later"; ``200`` carries the items (one run each when split) and the next ``Location``;
``Retry-After: 0`` polls again at once. A ``pollingtrigger`` policy template replaces the
``Location`` with a cursor over the last trigger body. The platform keeps the state in the
trigger's ``flow_triggers`` row, and a poll's runs commit in the same transaction as its new
state, under the row's lease: no item fires twice, none is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from tether.errors import TetherError
from tether.flows import TriggerSpec, load_flow
from tether.flows.engine import Recurrence
from tether.flows.expressions import ExpressionContext, evaluate
from tether.hosting._trigger_parts import (
    CALL_FAILURES,
    POLLING_TRIGGERS,
    TriggerContext,
    connection_of,
    connector_request,
    header,
    trigger_result,
)
from tether.runtime.policies import polling_trigger
from tether.services.hosted import create_run, record_trigger_failure
from tether.store import Flows, FlowTriggers, utcnow

__all__ = ["DEFAULT_POLL", "MAX_IMMEDIATE_POLLS", "PollingTriggers"]

DEFAULT_POLL = timedelta(minutes=3)
MAX_IMMEDIATE_POLLS = 10  # Retry-After: 0 polls again at once, this many times per pass at most


# What a poll reads before its request: the trigger, its state and inputs hash, inputs, parameters.
_Read = tuple[TriggerSpec, dict[str, Any], str, Any, dict[str, Any]]


class PollingTriggers:
    """Polls one due trigger at a time: ``await poll(flow_id, now)`` gives the ids of the runs fired."""

    def __init__(self, context: TriggerContext) -> None:
        self.context = context

    async def poll(self, flow_id: str, now: datetime) -> list[str]:
        # Every database step of a poll runs in a thread: each takes SQLite's write lock.
        if not await asyncio.to_thread(self.context.lease, flow_id, now):
            return []
        fired: list[str] = []
        for _round in range(MAX_IMMEDIATE_POLLS):
            again, runs = await self._poll_once(flow_id, now)
            fired += runs
            for run_id in runs:
                self.context.submit(run_id)
            if not again:
                break
        await asyncio.to_thread(self.context.save, flow_id)  # release the lease
        return fired

    async def _poll_once(self, flow_id: str, now: datetime) -> tuple[bool, list[str]]:
        """One request; commits its runs and the new state together. Returns (poll again now, runs)."""
        context = self.context
        read = await asyncio.to_thread(self._read, flow_id)
        if read is None:
            return False, []
        trigger, state, seen_hash, inputs, parameters = read
        interval = self._interval(trigger, now)
        try:
            connection = connection_of(inputs.get("host"), parameters)
            call = await asyncio.to_thread(context.prepare, connection)
            method, path, queries, headers, body = connector_request(trigger, inputs)
            operation = (
                call.compiled.api.operation(path)
                if method == "OPERATION"
                else call.compiled.match(method, path)[0]
            )
            cursor = polling_trigger(call.compiled.properties, operation.operation_id)
            if state.get("location"):
                status, answer_headers, answer = await context.call_url(connection, "GET", state["location"])
            else:
                if cursor is not None:
                    queries.update(cursor.query_parameters(state.get("last_body")))
                status, answer_headers, answer = await context.caller.call(
                    connection, method, path, queries, headers, body, "", async_pattern=False
                )
        except CALL_FAILURES as exc:
            failed = {**state, "error": str(exc)}
            await asyncio.to_thread(context.save, flow_id, state=failed, next_poll_at=now + interval)
            if "error" not in state:  # news when it starts failing, not on every poll after
                await asyncio.to_thread(record_trigger_failure, context.db, flow_id, trigger.name, str(exc))
            return False, []
        location = header(answer_headers, "location")
        retry_after = header(answer_headers, "retry-after")
        wait = timedelta(seconds=int(retry_after)) if retry_after and retry_after.isdigit() else interval
        was_failing = state.pop("error", None) is not None
        if status == 202:
            if location:
                state["location"] = location
            await asyncio.to_thread(context.save, flow_id, state=state, next_poll_at=now + wait)
            return False, []
        if status != 200:
            state["error"] = f"poll answered {status}"
            await asyncio.to_thread(context.save, flow_id, state=state, next_poll_at=now + interval)
            if not was_failing:
                message = state["error"]
                await asyncio.to_thread(record_trigger_failure, context.db, flow_id, trigger.name, message)
            return False, []
        bodies = self._split(trigger, operation, cursor, answer, answer_headers)
        state["location"] = location
        if bodies and cursor is not None:
            state["last_body"] = answer
        runs = await asyncio.to_thread(
            self._commit, flow_id, trigger, inputs, answer_headers, bodies, state, seen_hash, now + wait
        )
        if runs is None:
            return False, []
        return bool(retry_after == "0" and bodies), runs

    def _read(self, flow_id: str) -> _Read | None:
        """The trigger, its state and inputs hash, and its evaluated inputs; None when not ours to poll."""
        context = self.context
        with context.db.session() as session:
            flow = Flows(session).get(flow_id)
            row = FlowTriggers(session).get(flow_id)
            if flow is None or row is None or not flow.enabled or row.leased_by != context.instance:
                return None
            trigger = load_flow(flow.definition).trigger
            if trigger is None or trigger.type not in POLLING_TRIGGERS:
                return None
            inputs, parameters = context.evaluate(flow, trigger)
            return trigger, dict(row.state), row.inputs_hash, inputs, parameters

    def _commit(
        self,
        flow_id: str,
        trigger: TriggerSpec,
        inputs: Any,
        answer_headers: Any,
        bodies: list[Any],
        state: dict[str, Any],
        seen_hash: str,
        next_poll_at: datetime,
    ) -> list[str] | None:
        """The runs of one answer and the trigger's new state, in one transaction; None when the
        trigger changed or its lease was lost meanwhile (then nothing is written)."""
        context = self.context
        with context.db.session() as session:
            flow = Flows(session).get(flow_id)
            row = FlowTriggers(session).get(flow_id)
            if (
                flow is None
                or row is None
                or row.inputs_hash != seen_hash
                or row.leased_by != context.instance
            ):
                return None
            runs = [
                create_run(session, flow, trigger_result(trigger.name, inputs, 200, answer_headers, item),
                           started_by=None, keyring=context.caller.keyring).id
                for item in bodies
            ]  # fmt: skip
            row.state, row.next_poll_at, row.updated_at = state, next_poll_at, utcnow()
        return runs

    def _split(self, trigger: TriggerSpec, operation: Any, cursor: Any, body: Any, headers: Any) -> list[Any]:
        """The trigger bodies of one 200 answer: one per item when split, else the whole body."""
        split_on = trigger.raw.get("splitOn")
        if isinstance(split_on, str):
            result = trigger_result(trigger.name, {}, 200, headers, body)
            items = evaluate(split_on, ExpressionContext(trigger=result))
            return list(items) if isinstance(items, list) else []
        if cursor is not None:
            return [body] if cursor.items(body) else []
        if operation.trigger == "batch":
            items = body.get("value") if isinstance(body, Mapping) else body
            return list(items) if isinstance(items, list) else []
        return [body]

    @staticmethod
    def _interval(trigger: TriggerSpec, now: datetime) -> timedelta:
        if not isinstance(trigger.raw.get("recurrence"), Mapping):
            return DEFAULT_POLL
        try:
            return Recurrence.from_trigger(trigger.raw).next_after(now, anchor=now) - now
        except TetherError:
            return DEFAULT_POLL
