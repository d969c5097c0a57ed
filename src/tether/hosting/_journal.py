"""The database journal: a run's progress committed after every action, and its resume.

:func:`advance_run` is "advance this run": claim it, load what the journal holds, execute or
resume with the engine, and store how it ended. The embedded executor calls it in-process; a
Celery task calls it in a worker with the same arguments. A claim (``claimed_by``/``until``,
extended by every commit and renewed during long waits) keeps two processes from advancing one
run; an expired claim means its process died, and the run is resumed by whoever claims it next.

What is committed when (DESIGN.md: a killed process loses no run and repeats no finished action;
the action in flight runs again with the same idempotency key):

- an action with side effects (Http, connector calls, Wait) is committed as running before it
  starts and with its result as soon as it ends, each in one transaction;
- an action without side effects (Compose, variables, conditions, loops, Response, …) only
  computes from the run's state; its record, and the variables and decisions it changed, ride
  with the run's next commit: the next side-effecting action's start, or the run's end. A crash
  before that commit loses only the evaluation, and nothing outside the run has seen it — a side
  effect commits what it was computed from before it starts, and a Response's answer reaches the
  caller only once committed — so the resumed run evaluates those actions again from the same
  committed state, as if for the first time.

Every commit writes, in one transaction, the pending records (one compact segment row,
``store/_run_segments.py``) and — when they changed, or the claim is due for a new expiry — the
variables and decisions. A Request run whose caller waits
for its Response has its row written by its first commit (:class:`PendingRow`: a crash before
that commit loses a run nobody was answered about and that started no side effect); other runs
are written when they are accepted. So Request → Compose → Http → Response costs three commits
(Http started with the run's row and Compose, Http ended, the run's end with the Response), and
Request → Compose → Compose → Response one (its row inserted as it ended, one segment, its
event). The process's :class:`JournalWriter` makes the commits of concurrent runs group commits
(one transaction for all, a savepoint each).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tether.errors import TetherError
from tether.flows import FlowDefinition
from tether.flows.engine import (
    ActionRecord,
    EngineServices,
    RunOutcome,
    RunSpec,
    RunState,
    execute_run,
    history_view,
)
from tether.flows.engine.actions import ACTIONS
from tether.hosting._writer import JournalWriter
from tether.runtime import install_log_redaction, redacting
from tether.secrets import KeyRing
from tether.services.hosted import (
    EMPTY_PROGRESS,
    RunPrivacy,
    compiled_definition,
    encode,
    flow_environment_values,
    flow_http_rules,
    flow_network_policy,
    jsonable,
    record_run_end,
    run_privacy,
    unseal,
)
from tether.store import Database, FlowRuns, utcnow

__all__ = [
    "CLAIM_SECONDS",
    "EMPTY_PROGRESS",
    "ClaimedRun",
    "DbJournal",
    "PendingRow",
    "advance_run",
    "claim_run",
    "compiled_definition",
    "encode",
    "jsonable",
    "prepare_run",
]

CLAIM_SECONDS = 300.0
_CANCEL_CHECK_SECONDS = 1.0
_RENEW_CLAIM_SECONDS = CLAIM_SECONDS / 3  # a commit extends the claim when it is older than this
_MAX_PENDING = 256  # records held for the next commit, at most (a long loop of Compose commits now and then)


# path, stored view, status, seq, idempotency key: one action row as the journal writes it.
StoredAction = tuple[str, str, str, int, str | None]


def _stored_view(record: ActionRecord, privacy: RunPrivacy) -> str:
    """An action record's view as run history keeps it (JSON text): the run's secrets masked, and
    sealed when the environment encrypts run data."""
    return encode(privacy.stored(history_view(record).to_json()))


def stored_action(record: ActionRecord, privacy: RunPrivacy) -> StoredAction:
    """An action record as a ``run_actions`` row keeps it (stateless runs' history): its view as
    :func:`_stored_view` makes it, with its status, place and idempotency key."""
    view = _stored_view(record, privacy)
    return record.path, view, record.status, record.seq, record.idempotency_key


def _defers(record: ActionRecord) -> bool:
    """Whether the record may wait for its run's next commit (see the module docstring)."""
    kind = ACTIONS.get(record.type)
    return kind is not None and not kind.side_effects


class DbJournal:
    """The run journal on the database, committing as the module docstring says.

    ``started`` and a side-effecting action's ``finished`` commit at once (with whatever is
    pending); other actions' ``finished`` only queue the record; :meth:`finish` commits the rest
    with the run's end. A Response's answer is handed to ``on_response`` after the commit that
    stored it.
    """

    def __init__(
        self,
        db: Database,
        run_id: str,
        *,
        instance: str,
        on_response: Callable[[str, dict[str, Any]], None] | None = None,
        cancelled: Callable[[str], bool] | None = None,
        writer: JournalWriter | None = None,
        progress: str | None = None,
        privacy: RunPrivacy | None = None,
        flow_id: str | None = None,
        row: PendingRow | None = None,
    ) -> None:
        self.db, self.run_id, self.instance = db, run_id, instance
        self.flow_id = flow_id  # the run's flow: its end is an event of the flow (run.failed...)
        self._row = row if row is not None and not row.stored else None  # inserted by the first commit
        # What history hides (secrets masked, bodies sealed): the engine keeps the real values.
        self.privacy = privacy or RunPrivacy()
        self.writer = writer or JournalWriter(db)
        self._on_response = on_response
        self._cancelled = cancelled
        self._pending: dict[str, ActionRecord] = {}
        self._answer: dict[str, Any] | None = None  # a Response's answer, stored by the next commit
        self._lock = asyncio.Lock()  # one commit of a run at a time: progress is never overwritten by older
        # The variables and decisions the run's row holds (None: unknown), and when its claim was
        # last extended: a commit that changes neither, while the claim is fresh, skips the row.
        self._progress = progress
        self._claimed_at = time.monotonic()
        # The claim just read the run (not cancelled then): the first database check can wait.
        self._checked_at = self._claimed_at
        self._cancel = False

    async def _commit(self, state: RunState, outcome: RunOutcome | None = None) -> None:
        privacy = self.privacy
        async with self._lock:
            batch, self._pending = self._pending, {}
            # The commit's records, one segment (store/_run_segments.py).
            writes = [
                (r.path, r.seq, r.status, r.idempotency_key, _stored_view(r, privacy)) for r in batch.values()
            ]
            plain = {"variables": state.variables, "decisions": state.decisions}
            progress = encode(plain)
            changed = progress != self._progress
            answer, self._answer = self._answer, None
            response = encode(privacy.stored(answer)) if answer is not None else None
            now = time.monotonic()
            renew = now - self._claimed_at >= _RENEW_CLAIM_SECONDS
            # Compared as plain text (a sealed copy differs every time), stored sealed when it must be.
            writes_state = changed if outcome is not None else changed or response is not None or renew
            kept = privacy.stored_state(plain) if writes_state else plain
            stored_progress = progress if kept is plain else encode(kept)  # the same unless sealed or masked
            run_id, flow_id = self.run_id, self.flow_id
            shown_error = _event_error(outcome, privacy) if outcome is not None else None
            row = self._row

            def work(runs: FlowRuns) -> None:
                if outcome is None:
                    if row is not None:
                        runs.insert_run(row.values)
                    if writes:
                        runs.append_records(run_id, writes)
                    if changed or response is not None or renew:
                        until = utcnow() + timedelta(seconds=CLAIM_SECONDS)
                        runs.save_progress(run_id, stored_progress, until, response)
                    return
                error = _stored_json(outcome.error, privacy)
                outputs = _stored_json(outcome.outputs, privacy)
                state_text = stored_progress if changed else None
                ended_at = utcnow()
                if row is not None:  # a run that ends in its first commit: its row, written ended
                    ended = {"state": state_text or row.values["state"], "response": response}
                    values = {**row.values, **ended, "status": outcome.status, "error": error}
                    runs.insert_ended_run(values, outputs=outputs, ended_at=ended_at)
                else:
                    runs.finish(
                        run_id, outcome.status, error, outputs, ended_at, state=state_text, response=response
                    )
                if writes:  # after the run's row (the segment's foreign key)
                    runs.append_records(run_id, writes)
                if flow_id is not None:  # the event rides with the run's last commit
                    record_run_end(runs.session, flow_id, run_id, outcome.status, shown_error)

            await self.writer.write(work)
            if row is not None:
                row.stored, self._row = True, None
            if changed or response is not None or renew:
                self._progress, self._claimed_at = progress, now
        if answer is not None and self._on_response is not None:
            self._on_response(self.run_id, answer)

    async def started(self, record: ActionRecord, state: RunState) -> None:
        self._pending[record.path] = record
        await self._commit(state)

    async def finished(self, record: ActionRecord, state: RunState) -> None:
        self._pending[record.path] = record
        if not _defers(record) or len(self._pending) >= _MAX_PENDING:
            await self._commit(state)

    async def responded(self, response: dict[str, Any]) -> None:
        self._answer = response  # stored by the next commit, then handed to the caller

    async def finish(self, outcome: RunOutcome, state: RunState) -> None:
        """End the run: the records still pending and how it ended, in one transaction."""
        await self._commit(state, outcome)

    async def cancel_requested(self) -> bool:
        if self._cancel or (self._cancelled is not None and self._cancelled(self.run_id)):
            return True
        now = time.monotonic()
        # A run whose row is not written yet can only be cancelled here (nobody else knows its id).
        if self._row is None and now - self._checked_at >= _CANCEL_CHECK_SECONDS:
            self._checked_at = now

            def read() -> bool:
                with self.db.session() as session:
                    run = FlowRuns(session).get(self.run_id)
                    return bool(run is None or run.cancel_requested)

            self._cancel = await asyncio.to_thread(read)
        return self._cancel


def _stored_json(value: Any, privacy: RunPrivacy) -> str:
    """A run's error or outputs as its row keeps them (JSON text); most runs have neither."""
    return "null" if value is None else encode(privacy.stored(value))


def _event_error(outcome: RunOutcome, privacy: RunPrivacy) -> dict[str, Any] | None:
    """The run error as an event may carry it: masked as history shows it; only its code where
    the environment seals run data (the event stream is not sealed)."""
    if not isinstance(outcome.error, dict):
        return None
    if privacy.encrypt:
        return {"code": outcome.error.get("code")}
    shown = privacy.shown(outcome.error)
    return shown if isinstance(shown, dict) else None


@dataclass
class PendingRow:
    """A run's row not written yet: the run's first journal commit inserts it (``stored`` then).

    A Request run whose caller waits for the Response is started by the process that accepted
    it without a commit of its own: its row rides with the run's first commit (the first
    side-effecting action's start, or the run's end). What a crash may lose: such a run, if it
    dies before that commit — its caller was answered nothing (the connection drops), no action
    with a side effect had started, and nothing else knew the run's id. Every run that answered,
    started a side effect, or was told ``202 Accepted`` is stored.
    """

    values: dict[str, Any]
    stored: bool = False


@dataclass(frozen=True)
class ClaimedRun:
    """What advancing a claimed run needs: read in the claim's transaction, or kept from the
    request that created the run already claimed (the embedded fast path).

    ``progress`` is the variables-and-decisions text the run's row holds, or None when its
    ``state`` is still empty: the journal's first commit then writes it, so an empty state always
    means "no action committed yet" and a claim can skip reading action rows.
    """

    flow_id: str
    definition: FlowDefinition
    trigger: dict[str, Any]
    parameters: dict[str, Any]
    state: RunState
    progress: str | None = None
    row: PendingRow | None = None  # the run's row when not written yet (see PendingRow)


def claim_run(db: Database, run_id: str, instance: str, keyring: KeyRing | None = None) -> ClaimedRun | None:
    """Take the run for ``instance`` and load its journal, in one transaction; None when another
    live process has it, or it has ended. Sealed values come back real (``keyring`` decrypts them):
    the engine evaluates with them, and only history hides them."""
    now = utcnow()
    with FlowRuns.journal(db) as runs:
        row = runs.claim(run_id, instance, now, now + timedelta(seconds=CLAIM_SECONDS))
        if row is None:
            return None
        saved = unseal(row["state"] or {}, keyring)
        # A run with no saved progress has no action rows yet: skip that query on the hot path.
        rows = [unseal(r, keyring) for r in runs.action_records(run_id)] if saved else []
        records = {r["path"]: ActionRecord.from_json(r) for r in rows}
    state = RunState(
        records=records,
        variables=dict(saved.get("variables") or {}),
        decisions=dict(saved.get("decisions") or {}),
        response=unseal(row["response"], keyring),
    )
    definition = compiled_definition(row["definition"])
    progress = encode({"variables": state.variables, "decisions": state.decisions}) if saved else None
    trigger, parameters = unseal(row["trigger"], keyring), unseal(row["parameters"], keyring)
    return ClaimedRun(row["flow_id"], definition, trigger, parameters, state, progress)


class _ClaimKeeper:
    """Renews a run's claim during long waits (a Wait of hours commits nothing meanwhile).

    A timer, not a task per run: most runs end long before the first renewal is due, and every
    commit extends the claim anyway.
    """

    def __init__(self, db: Database, run_id: str, instance: str) -> None:
        self.db, self.run_id, self.instance = db, run_id, instance
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[None] | None = None
        self._timer = self._loop.call_later(CLAIM_SECONDS / 3, self._due)

    def _due(self) -> None:
        self._task = self._loop.create_task(self._renew())

    async def _renew(self) -> None:
        def renew() -> None:
            with self.db.session() as session:
                until = utcnow() + timedelta(seconds=CLAIM_SECONDS)
                FlowRuns(session).renew_claim(self.run_id, self.instance, until)

        with contextlib.suppress(TetherError):  # a database hiccup: the next renewal may work
            await asyncio.to_thread(renew)
        self._timer = self._loop.call_later(CLAIM_SECONDS / 3, self._due)

    async def stop(self) -> None:
        self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def prepare_run(
    db: Database, run_id: str, run: ClaimedRun, services: EngineServices, keyring: KeyRing | None
) -> tuple[RunSpec, RunPrivacy]:
    """What executing ``run`` needs besides its journal: the engine's spec (environment variables,
    network policy) and what its history must hide. Shared by stateful runs and stateless ones."""
    app_settings = await flow_environment_values(db, run.flow_id, keyring)
    secure_settings: set[str] = set()
    if keyring is not None and app_settings:  # the secure variables: those a reader without keys lacks
        plain = await flow_environment_values(db, run.flow_id, None)
        secure_settings = {value for name, value in app_settings.items() if name not in plain}
    privacy = await run_privacy(
        db,
        run.flow_id,
        definition={"parameters": run.definition.parameters},
        trigger=run.trigger,
        parameters=run.parameters,
        keyring=keyring,
        connectors=services.connectors,
        extra=secure_settings,
    )
    spec = RunSpec(
        run_id=run_id,
        definition=run.definition,
        trigger=run.trigger,
        parameters=run.parameters,
        network_policy=await flow_network_policy(db, run.flow_id),
        http_rules=await flow_http_rules(db, run.flow_id),
        app_settings=app_settings,
        workflow={
            "id": run.flow_id,
            "name": run.flow_id,
            "type": "Microsoft.Logic/workflows",
            "run": {"id": run_id, "name": run_id, "type": "Microsoft.Logic/workflows/runs"},
            "tags": {},
        },
    )
    return spec, privacy


async def advance_run(
    db: Database,
    run_id: str,
    services: EngineServices,
    *,
    instance: str,
    on_response: Callable[[str, dict[str, Any]], None] | None = None,
    cancelled: Callable[[str], bool] | None = None,
    journal_factory: Callable[..., DbJournal] = DbJournal,
    writer: JournalWriter | None = None,
    claimed: ClaimedRun | None = None,
    keyring: KeyRing | None = None,
) -> RunOutcome | None:
    """Claim, execute or resume, and finish one run; None when the run is not ours to advance.

    ``claimed``: the run as its creator claimed it for this process (nothing to read back).
    ``keyring`` decrypts the environment's secure variables (without it the run sees only the others).
    It also unseals what the run keeps sealed (secure parameters, secret trigger headers,
    encrypted run data); by default it is the connector caller's.
    """
    keyring = keyring or getattr(services.connectors, "keyring", None)
    install_log_redaction()  # idempotent: the filter that masks what ``redacting`` names below
    run: ClaimedRun | None
    if claimed is not None:
        run = claimed
    else:
        run = await asyncio.to_thread(claim_run, db, run_id, instance, keyring)
    if run is None:
        return None
    spec, privacy = await prepare_run(db, run_id, run, services, keyring)
    journal = journal_factory(
        db,
        run_id,
        instance=instance,
        on_response=on_response,
        cancelled=cancelled,
        writer=writer,
        progress=run.progress,
        privacy=privacy,
        flow_id=run.flow_id,
        **({"row": run.row} if run.row is not None else {}),  # custom journal factories may not take it
    )
    keeper = _ClaimKeeper(db, run_id, instance)
    try:
        # Logs written while the run's actions call out (the runtime's, httpx's) mask its secrets too.
        with redacting(privacy.secrets):
            outcome = await execute_run(spec, journal, services, run.state)
    finally:
        await keeper.stop()
    await journal.finish(outcome, run.state)
    return outcome
