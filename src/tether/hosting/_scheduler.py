"""The Recurrence scheduler: fires each tick of every enabled Recurrence flow exactly once.

Any number of ``tether serve`` processes may run it against one database. Each due tick is
claimed by inserting a ``flow_ticks`` row (primary key: flow, tick) in the same transaction that
creates the run and moves the flow's ``next_fire_at`` on; the process that loses the race gets a
Conflict and moves on. That works the same on SQLite and PostgreSQL, with no lock service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from tether import telemetry
from tether.errors import Conflict, TetherError
from tether.flows import load_flow
from tether.flows.engine import SYSTEM_CLOCK, Clock, Recurrence, recurrence_trigger_result
from tether.services.hosted import DEFAULT_RUN_RETENTION, create_run, purge_audit, purge_runs
from tether.store import Database, Flows, FlowTick, new_id

__all__ = ["DEFAULT_TICK_SECONDS", "RecurrenceScheduler"]

DEFAULT_TICK_SECONDS = 1.0
_PURGE_EVERY = 3600  # ticks between retention purges
_log = logging.getLogger("tether.flows")


class RecurrenceScheduler:
    """Fires due Recurrence ticks; ``tick()`` is one pass, ``run()`` loops until cancelled."""

    def __init__(
        self,
        db: Database,
        *,
        instance: str,
        submit: Callable[[str], None],
        clock: Clock = SYSTEM_CLOCK,
        interval: float = DEFAULT_TICK_SECONDS,
        retention: timedelta = DEFAULT_RUN_RETENTION,
    ) -> None:
        self.db, self.instance, self.submit, self.clock, self.interval = db, instance, submit, clock, interval
        self.retention = retention
        self._passes = 0

    def tick(self, now: datetime | None = None) -> list[str]:
        """Fire every tick due at ``now``; returns the ids of the runs this process created."""
        now = now or self.clock.now()
        with self.db.session() as session:
            due = [(f.id, f.next_fire_at) for f in Flows(session).due(now)]
        fired = []
        for flow_id, tick in due:
            try:
                run_id = self._fire(flow_id, tick, now)
            except Conflict:
                continue  # another scheduler fired this tick
            if run_id is not None:
                fired.append(run_id)
                if tick is not None:
                    telemetry.observe_trigger_lag("recurrence", (now - tick).total_seconds())
        for run_id in fired:
            self.submit(run_id)
        return fired

    def _fire(self, flow_id: str, tick: datetime | None, now: datetime) -> str | None:
        with self.db.session() as session:
            flows = Flows(session)
            flow = flows.get(flow_id)
            if flow is None or not flow.enabled or tick is None or flow.next_fire_at != tick:
                return None
            run_id = new_id()
            flows.add_tick(FlowTick(flow_id=flow_id, tick=tick, run_id=run_id, fired_by=self.instance))
            trigger = load_flow(flow.definition).trigger
            if trigger is None:
                return None
            create_run(
                session,
                flow,
                recurrence_trigger_result(trigger.name, tick, now),
                started_by=None,
                run_id=run_id,
            )
            # Missed ticks (the server was down) are not replayed one by one: the next is after now.
            flow.next_fire_at = Recurrence.from_trigger(trigger.raw).next_after(max(tick, now), anchor=tick)
            return run_id

    async def run(self) -> None:
        """Loop: fire due ticks, purge expired runs now and then; survives database hiccups."""
        while True:
            try:
                await asyncio.to_thread(self.tick)
                self._passes += 1
                if self._passes % _PURGE_EVERY == 1:
                    await asyncio.to_thread(purge_runs, self.db, older_than=self.retention)
                    await asyncio.to_thread(purge_audit, self.db)  # each environment's audit retention
            except TetherError as exc:
                _log.warning("scheduler pass failed: %s", exc.message)
            await self.clock.sleep(self.interval)
