"""Flows in a serving process: the executor, the Recurrence scheduler, sync responses, the URL key.

``tether serve`` makes one :class:`FlowHost` and starts it in the app's lifespan. Runs are
advanced by an :class:`~tether.flows.engine.Executor` (the embedded one by default; a Celery one
plugs in through the ``executor`` argument), and callers of a Request trigger whose flow has a
Response action wait here for that answer.

A Request trigger is the hot path (:meth:`FlowHost.fire_request`): the flow is read once and
kept (``ReadCache``: a change made here shows at once, one made elsewhere within seconds), the
run is inserted by the journal's writer on the event loop, and, when this process's executor is
the embedded one, inserted already claimed by this process and handed to it as is, so the run
starts without reading back what was just written.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from tether.errors import TetherError
from tether.flows.engine import EmbeddedExecutor, EngineServices, Executor, RunState, StatelessJournal
from tether.hosting._connector_calls import FlowConnectorCaller
from tether.hosting._event_dispatch import DEFAULT_DISPATCH, DispatchOptions, EventDispatcher
from tether.hosting._journal import CLAIM_SECONDS, ClaimedRun, PendingRow, advance_run
from tether.hosting._scheduler import DEFAULT_TICK_SECONDS, RecurrenceScheduler
from tether.hosting._stateless import StatelessRuns
from tether.hosting._triggers import ConnectorTriggers
from tether.hosting._writer import JournalWriter
from tether.secrets import KeyRing
from tether.services.hosted import (
    DEFAULT_RUN_RETENTION,
    EMPTY_PROGRESS,
    SEALED,
    ReadCache,
    RequestTarget,
    accept_request,
    check_trigger_signature,
    request_target,
    run_values,
    unseal,
)
from tether.store import Connections, Database, FlowRuns, new_id, utcnow

__all__ = ["SIGNING_SECRET", "SYNC_RESPONSE_TIMEOUT", "FlowHost", "trigger_signing_key"]

SIGNING_SECRET = "flow-trigger-signing-key"
SYNC_RESPONSE_TIMEOUT = 120.0  # REFERENCE.md §7: synchronous requests


def trigger_signing_key(db: Database, keyring: KeyRing) -> bytes:
    """The installation's key for callback URL signatures (made on first use, stored encrypted)."""
    with db.session() as session:
        stored = Connections(session).install_secret_or_add(
            SIGNING_SECRET, lambda: keyring.encrypt(secrets.token_urlsafe(48))
        )
        return keyring.decrypt(stored.value)


class FlowHost:
    """Runs, schedules and answers flows in this process; ``await start()``, ``await stop()``."""

    def __init__(
        self,
        db: Database,
        *,
        keyring: KeyRing | None = None,
        services: EngineServices | None = None,
        executor: Callable[[Callable[[str], Any]], Executor] | None = None,
        scheduler: bool = True,
        tick_seconds: float = DEFAULT_TICK_SECONDS,
        retention: timedelta = DEFAULT_RUN_RETENTION,
        instance: str | None = None,
        public_url: str = "http://127.0.0.1:8000",
        dispatch: DispatchOptions = DEFAULT_DISPATCH,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.services = services or EngineServices()
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.executor: Executor = (executor or EmbeddedExecutor)(self.advance)
        self.scheduler = (
            RecurrenceScheduler(
                db, instance=self.instance, submit=self.submit, interval=tick_seconds, retention=retention
            )
            if scheduler
            else None
        )
        # Connector triggers (polling, webhooks) need the connector runtime: a FlowConnectorCaller.
        connectors = self.services.connectors
        self.triggers = (
            ConnectorTriggers(
                db,
                connectors,
                instance=self.instance,
                submit=self.submit,
                signing_key=lambda: self.signing_key,
                public_url=public_url,
            )
            if isinstance(connectors, FlowConnectorCaller)
            else None
        )
        # Webhook deliveries and alert mails: they need the connector runtime (its transport, Mail).
        self.events = (
            EventDispatcher(
                db,
                connectors,
                keyring=keyring,
                instance=self.instance,
                options=dispatch,
                public_url=public_url,
            )
            if isinstance(connectors, FlowConnectorCaller) and keyring is not None
            else None
        )
        self._tick_seconds = tick_seconds
        self._waiters: dict[str, asyncio.Future[dict[str, Any] | None]] = {}
        self._cancelled: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._key: bytes | None = None
        # The journal commits of every run advanced here (and the Request trigger's run inserts).
        self.writer = JournalWriter(db, direct=True)
        self.stateless = StatelessRuns(db, self.services, self.writer, keyring)  # kind: Stateless, in memory
        # Grants and groups too: a revoked share marks the flow's connection in the next run's parameters.
        self._targets: ReadCache[RequestTarget] = ReadCache(
            db, ["flows", "environment_settings", "grants", "group_members", "environment_group_roles"]
        )
        self._claimed: dict[str, ClaimedRun] = {}  # runs inserted claimed for this process, not started yet
        self._loop_thread: int | None = None

    @property
    def signing_key(self) -> bytes:
        if self._key is None:
            if self.keyring is None:
                raise RuntimeError("FlowHost needs a keyring to sign callback URLs")
            self._key = trigger_signing_key(self.db, self.keyring)
        return self._key

    async def start(self) -> None:
        self._loop_thread = threading.get_ident()
        if self.keyring is not None and self._key is None:  # read the URL key now, not on a request
            self._key = await asyncio.to_thread(trigger_signing_key, self.db, self.keyring)
        await self.executor.start()
        if self.scheduler is not None:
            self._tasks.append(asyncio.create_task(self.scheduler.run(), name="tether-scheduler"))
            if self.triggers is not None:
                task = asyncio.create_task(self.triggers.run(self._tick_seconds), name="tether-triggers")
                self._tasks.append(task)
            if self.events is not None:
                self._tasks.append(asyncio.create_task(self.events.run(), name="tether-events"))
        self._tasks.append(asyncio.create_task(self._recover(), name="tether-run-recovery"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.executor.stop()
        # Runs accepted but never started: stored (if they were not), so that once their claims
        # expire _recover (here or elsewhere) resumes them.
        await self._store_rows([run.row for run in self._claimed.values() if run.row is not None])
        self._claimed.clear()
        await self.stateless.stop()  # in memory only: they end with the process, as in Standard
        await self.services.aclose()
        await self.writer.aclose()

    def submit(self, run_id: str) -> None:
        self.executor.submit(run_id)

    async def fire_request(
        self,
        flow_id: str,
        trigger: str,
        *,
        sig: str | None,
        method: str,
        headers: Mapping[str, str],
        queries: Mapping[str, str],
        body: Any,
        path: str = "",
    ) -> tuple[str, asyncio.Future[dict[str, Any] | None] | None]:
        """Fire a Request trigger from its signed URL: the new run's id, and the future of its
        Response's answer when the flow has one (await it with :meth:`wait_response`).

        Same checks as ``services.invoke_trigger``; the run row is committed before this returns.
        A stateless flow's run writes nothing: it starts here, in memory, in this process.
        """
        check_trigger_signature(self.signing_key, flow_id, trigger, sig)
        target = self._targets.get(flow_id)
        if target is None:
            # One read for all the calls that find it stale at once (every few seconds under load).
            target = await self._targets.read_through(flow_id, lambda: (self._request_target(flow_id), None))
        result = accept_request(
            target, trigger, method=method, headers=headers, queries=queries, body=body, path=path
        )
        if target.kind == "Stateless":
            return self._fire_stateless(target, result)
        here = isinstance(self.executor, EmbeddedExecutor)
        run_id, now = new_id(), utcnow()
        values = run_values(
            target,
            result,
            run_id=run_id,
            now=now,
            claimed_by=self.instance if here else None,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            keyring=self.keyring,
        )
        # A run started here whose caller waits for its Response: its row rides with its first
        # commit (PendingRow says what a crash may lose); any other run is stored before answering.
        row = PendingRow(values) if here and target.answers else None
        if row is None:
            await self.writer.write(lambda runs: runs.insert_run(values))
        future = self.expect_response(run_id) if target.answers else None
        if here:
            # Fresh parameters per run (an action must not change what the next run reads).
            parameters = json.loads(target.parameters_text)
            if SEALED in target.parameters_text:  # secure parameters: the engine needs them real
                parameters = await asyncio.to_thread(unseal, parameters, self.keyring)
            self._claimed[run_id] = ClaimedRun(
                target.flow_id, target.definition, result, parameters, RunState(), EMPTY_PROGRESS, row
            )
        try:
            self.submit(run_id)
        except BaseException:
            self._claimed.pop(run_id, None)
            self._waiters.pop(run_id, None)
            raise
        return run_id, future

    def _request_target(self, flow_id: str) -> RequestTarget:
        return request_target(self.db, flow_id, keyring=self.keyring)

    def _fire_stateless(
        self, target: RequestTarget, trigger: dict[str, Any]
    ) -> tuple[str, asyncio.Future[dict[str, Any] | None] | None]:
        run_id = new_id()
        future = self.expect_response(run_id) if target.answers else None
        journal = StatelessJournal(
            on_response=lambda answer: self._respond(run_id, answer),
            cancelled=lambda: run_id in self._cancelled,
        )

        def ended() -> None:
            self._respond(run_id, None)
            self._cancelled.discard(run_id)

        self.stateless.start(target, trigger, run_id, journal, ended=ended)
        return run_id, future

    def cancel(self, run_id: str) -> None:
        """Tell a run advanced here to stop after its action in flight (the DB flag tells others)."""
        self._cancelled.add(run_id)

    def expect_response(self, run_id: str) -> asyncio.Future[dict[str, Any] | None]:
        """Register before submitting: resolves with the Response action's answer, or None."""
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._waiters[run_id] = future
        return future

    async def wait_response(
        self,
        run_id: str,
        future: asyncio.Future[dict[str, Any] | None],
        timeout: float = SYNC_RESPONSE_TIMEOUT,
    ) -> dict[str, Any] | None:
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            return None
        finally:
            self._waiters.pop(run_id, None)

    def _respond(self, run_id: str, response: dict[str, Any] | None) -> None:
        """Hand a run's answer to its waiting caller; from any thread (Celery's answers come on one)."""
        future = self._waiters.get(run_id)
        if future is None or future.done():
            return
        loop = future.get_loop()
        if threading.get_ident() == self._loop_thread:
            _settle(future, response)  # the embedded executor, on the loop: no wake-up needed
        else:
            loop.call_soon_threadsafe(_settle, future, response)

    async def advance(self, run_id: str) -> None:
        """Advance one run here (the embedded executor's job; Celery tasks call advance_run too)."""
        claimed = self._claimed.pop(run_id, None)
        row = claimed.row if claimed is not None else None
        try:
            await advance_run(
                self.db,
                run_id,
                self.services,
                instance=self.instance,
                on_response=self._respond,
                cancelled=self._cancelled.__contains__,
                writer=self.writer,
                claimed=claimed,
                keyring=self.keyring,
            )
        except asyncio.CancelledError:
            if row is not None and not row.stored:  # stopped before its first commit: keep it for recovery
                await self._store_rows([row])
            raise
        except TetherError as exc:
            if row is not None and not row.stored:  # never stored: its caller is told, not sent a run id
                self._fail(run_id, exc)
            raise
        finally:
            self._respond(run_id, None)
            self._cancelled.discard(run_id)

    async def _store_rows(self, rows: list[PendingRow]) -> None:
        """Write the rows of runs that stop here before their first commit (claimed by this
        process, so whoever claims them after the claim expires resumes them)."""
        pending = [row for row in rows if not row.stored]
        if not pending:
            return

        def work(runs: FlowRuns) -> None:
            for row in pending:
                runs.insert_run(row.values)

        with contextlib.suppress(TetherError):  # the database is gone: nothing more can be kept
            await asyncio.shield(self.writer.write(work))
            for row in pending:
                row.stored = True

    def _fail(self, run_id: str, error: TetherError) -> None:
        future = self._waiters.get(run_id)
        if future is not None and not future.done():
            future.set_exception(error)

    async def _recover(self) -> None:
        """Resume runs whose process died (claim expired), now and every claim period."""
        while True:

            def stale() -> list[str]:
                with self.db.session() as session:
                    return [r.id for r in FlowRuns(session).unfinished(stale_before=utcnow())]

            with contextlib.suppress(TetherError):
                for run_id in await asyncio.to_thread(stale):
                    self.submit(run_id)
            await asyncio.sleep(CLAIM_SECONDS / 2)


def _settle(future: asyncio.Future[dict[str, Any] | None], value: dict[str, Any] | None) -> None:
    if not future.done():
        future.set_result(value)
