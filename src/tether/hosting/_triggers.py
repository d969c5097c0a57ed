"""Connector triggers: polling (ApiConnection/OpenApiConnection) and webhooks (ApiConnectionWebhook,
OpenApiConnectionWebhook, HttpWebhook), kept in line with the flows.

:class:`ConnectorTriggers` lives in the :class:`~tether.hosting.FlowHost` beside the Recurrence
scheduler. Each pass (``await tick(now)``) first *reconciles* every flow's trigger with its row in
``flow_triggers`` — subscribing enabled webhook flows, unsubscribing flows disabled, deleted or
whose trigger inputs/connection changed — then polls the due polling triggers. The work itself is
in ``_polling.py`` and ``_webhooks.py``; every step takes the row's lease first, so any
number of processes share it and a poll's runs and its new state commit in one transaction: no
event is fired twice or lost.

State rules: a polling trigger's state (next ``Location``, last trigger body) is kept across
disable/enable and edits; it is reset only when the trigger's type or ``inputs`` change (the hash
in ``inputs_hash``). A webhook re-subscribes when its inputs or its connection change; a failed
subscribe is tried again after ``SUBSCRIBE_RETRY``, or at once when the trigger changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tether import telemetry
from tether.errors import Conflict, TetherError
from tether.flows.engine import isoformat
from tether.hosting._connector_calls import FlowConnectorCaller
from tether.hosting._polling import PollingTriggers
from tether.hosting._trigger_parts import (
    POLLING_TRIGGERS,
    WEBHOOK_TRIGGERS,
    TriggerContext,
    is_subscribed,
)
from tether.hosting._webhooks import WebhookTriggers
from tether.services.hosted import RunInfo
from tether.store import Database, Flow, FlowTrigger, FlowTriggers, utcnow

__all__ = ["POLLING_TRIGGERS", "WEBHOOK_TRIGGERS", "ConnectorTriggers"]

_log = logging.getLogger("tether.flows")


class ConnectorTriggers:
    """Polls and (un)subscribes connector and HTTP webhook triggers; ``await tick(now)`` is one pass."""

    def __init__(
        self,
        db: Database,
        caller: FlowConnectorCaller,
        *,
        instance: str,
        submit: Callable[[str], None],
        signing_key: Callable[[], bytes],
        public_url: str,
    ) -> None:
        self.db = db
        self.context = TriggerContext(
            db, caller, instance=instance, submit=submit, signing_key=signing_key, public_url=public_url
        )
        self.polling = PollingTriggers(self.context)
        self.webhooks = WebhookTriggers(self.context)

    def callback_url(self, flow_id: str, trigger: str) -> str:
        """The signed URL a webhook trigger's ``@listCallbackUrl()`` gives its API."""
        return self.context.callback_url(flow_id, trigger)

    async def accept_event(
        self, flow_id: str, trigger_name: str, *, sig: str | None, headers: Mapping[str, str], body: Any
    ) -> RunInfo:
        """An event POSTed to a webhook's callback URL: the run it starts (created, not submitted)."""
        return await self.webhooks.accept_event(flow_id, trigger_name, sig=sig, headers=headers, body=body)

    async def tick(self, now: datetime | None = None) -> list[str]:
        """Reconcile subscriptions, then poll what is due; returns the ids of the runs fired."""
        now = now or utcnow()
        await self.reconcile(now)
        due = await asyncio.to_thread(self._due, now)
        fired: list[str] = []
        for flow_id in due:
            try:
                fired += await self.polling.poll(flow_id, now)
            except Conflict:
                continue
        return fired

    def _due(self, now: datetime) -> list[str]:
        with self.db.session() as session:
            rows = FlowTriggers(session).due(now)
            for row in rows:
                if row.next_poll_at is not None:
                    telemetry.observe_trigger_lag("polling", _seconds_between(row.next_poll_at, now))
            return [row.flow_id for row in rows]

    async def run(self, interval: float) -> None:
        while True:
            try:
                await self.tick()
            except TetherError as exc:
                _log.warning("connector trigger pass failed: %s", exc.message)
            await asyncio.sleep(interval)

    async def reconcile(self, now: datetime, *, again: bool = True) -> None:
        """Bring ``flow_triggers`` in line with the flows: create, reset, (un)subscribe, drop."""
        await asyncio.to_thread(self.context.signing_key)
        # Reading and writing trigger rows takes SQLite's write lock: in a thread, never on the loop.
        plan = await asyncio.to_thread(self._plan, now)
        for action, flow_id in plan:
            step = self.webhooks.unsubscribe if action == "unsubscribe" else self.webhooks.subscribe
            try:
                await step(flow_id, now)
            except Conflict:
                continue
        if again and any(action == "unsubscribe" for action, _flow in plan):
            await self.reconcile(now, again=False)  # re-subscribe changed triggers in the same pass

    def _plan(self, now: datetime) -> list[tuple[str, str]]:
        """Create and reset polling rows in one transaction; the (un)subscriptions left to make."""
        kinds = POLLING_TRIGGERS | WEBHOOK_TRIGGERS
        plan: list[tuple[str, str]] = []
        with self.db.session() as session:
            flows = {f.id: f for f in session.query(Flow).filter(Flow.trigger_type.in_(kinds))}
            wanted = {flow_id: self.context.wanted(flow) for flow_id, flow in flows.items()}
            rows = {r.flow_id: r for r in FlowTriggers(session).all()}
            for flow_id, row in list(rows.items()):  # a copy: a reset row is popped below
                flow = flows.get(flow_id)
                subscribed = row.trigger_type in WEBHOOK_TRIGGERS and is_subscribed(row.state)
                if subscribed and (flow is None or not flow.enabled or wanted[flow_id] != row.inputs_hash):
                    plan.append(("unsubscribe", flow_id))
                elif flow is None or wanted[flow_id] is None:
                    if not subscribed:
                        FlowTriggers(session).delete(row)
                elif wanted[flow_id] != row.inputs_hash and flow.trigger_type in POLLING_TRIGGERS:
                    FlowTriggers(session).delete(row)  # the trigger's inputs changed: start afresh
                    rows.pop(flow_id)
            for flow_id, flow in flows.items():
                kept = rows.get(flow_id)
                if not flow.enabled:
                    continue
                if flow.trigger_type in POLLING_TRIGGERS and kept is None:
                    self.context.insert(session, flow, now, poll=True)
                elif flow.trigger_type in WEBHOOK_TRIGGERS and _subscribe_due(kept, wanted[flow_id], now):
                    plan.append(("subscribe", flow_id))
        return plan


def _subscribe_due(row: FlowTrigger | None, wanted: str | None, now: datetime) -> bool:
    """Not subscribed, and not waiting out a failed attempt at this very trigger."""
    if row is None:
        return True
    if is_subscribed(row.state):
        return False
    retry_at = row.state.get("retry_at")
    return not retry_at or wanted != row.inputs_hash or str(retry_at) <= str(isoformat(now))


def _seconds_between(due: datetime, now: datetime) -> float:
    """``now - due`` in seconds; a naive time (SQLite hands them back so) is taken as UTC."""
    due = due if due.tzinfo is not None else due.replace(tzinfo=UTC)
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return (now - due).total_seconds()
