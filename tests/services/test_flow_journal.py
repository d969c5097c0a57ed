"""The run journal's commit policy (one commit per side effect, the rest riding along), the SQLite
writer on the event loop, and the Request trigger's fast path: each still durable."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.flows.engine._support import Backend
from tether.errors import Conflict
from tether.flows.engine import EmbeddedExecutor, EngineServices, SimulatedCrash, VirtualClock
from tether.hosting import FlowHost, advance_run
from tether.hosting._journal import DbJournal
from tether.hosting._writer import JournalWriter
from tether.secrets import KeyRing
from tether.services import create_flow, get_run, set_environment_settings, start_run
from tether.services._flow_runs import trigger_signature
from tether.store import Database, FlowRuns, utcnow


@pytest.fixture(scope="module")
def web() -> Any:
    server = Backend()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _loopback_allowed(db, admin, team) -> None:
    """The flows here call local services: the environment must allow loopback (the SSRF guard)."""
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])


def _request_flow(uri: str) -> dict[str, Any]:
    return {
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Compose": {"type": "Compose", "inputs": {"echo": "@triggerBody()"}},
            "Call": {
                "type": "Http",
                "runAfter": {"Compose": ["Succeeded"]},
                "inputs": {"method": "POST", "uri": uri, "body": "@outputs('Compose')"},
            },
            "Answer": {
                "type": "Response",
                "runAfter": {"Call": ["Succeeded"]},
                "inputs": {"statusCode": 200, "body": "@body('Call')"},
            },
        },
    }


def _two_calls(uri: str) -> dict[str, Any]:
    """No variable, no decision: the run's state stays empty however far it gets."""
    return {
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "A1": {"type": "Http", "inputs": {"method": "POST", "uri": uri + "1"}},
            "A2": {"type": "Http", "runAfter": {"A1": []}, "inputs": {"method": "POST", "uri": uri + "2"}},
        },
    }


class CountingWriter(JournalWriter):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.commits = 0

    async def write(self, work: Callable[..., Any]) -> Any:
        self.commits += 1
        return await super().write(work)


def _advance(db: Database, run_id: str, **options: Any) -> Any:
    async def go() -> Any:
        services = EngineServices(clock=VirtualClock())
        try:
            return await advance_run(
                db, run_id, services, instance=options.pop("instance", "test"), **options
            )
        finally:
            await services.aclose()

    return asyncio.run(go())


def test_actions_without_side_effects_ride_with_the_next_commit(db, team, admin, web: Backend) -> None:
    create_flow(db, admin, team, _request_flow(f"{web.url}/echo/policy"), name="f")
    run = start_run(db, admin, team, "f", body={"n": 1})
    writer = CountingWriter(db)
    answers: list[dict[str, Any]] = []
    outcome = _advance(db, run.id, writer=writer, on_response=lambda _run, answer: answers.append(answer))
    assert outcome.status == "Succeeded"
    assert writer.commits == 3  # Call started (with Compose), Call ended, the run's end (with Answer)
    detail = get_run(db, admin, team, "f", run.id)
    assert [(a.path, a.status) for a in detail.actions] == [
        ("Compose", "Succeeded"),
        ("Call", "Succeeded"),
        ("Answer", "Succeeded"),
    ]
    assert answers == [detail.run.response] and answers[0]["body"]["body"] == {"echo": {"n": 1}}


class CrashAfterFirstCall(DbJournal):
    async def finished(self, record, state) -> None:  # type: ignore[no-untyped-def]
        if record.path == "A1":
            raise SimulatedCrash("killed while A1 was in flight")
        await super().finished(record, state)


def test_a_run_with_empty_state_resumes_from_its_action_rows(db, team, admin, web: Backend) -> None:
    key = uuid.uuid4().hex[:8]
    create_flow(db, admin, team, _two_calls(f"{web.url}/echo/{key}/"), name="f")
    run = start_run(db, admin, team, "f", body={})
    with pytest.raises(SimulatedCrash):
        _advance(db, run.id, instance="worker-1", journal_factory=CrashAfterFirstCall)
    with db.session() as session:
        FlowRuns(session).set_state(run.id, claimed_until=utcnow() - timedelta(seconds=1))
    outcome = _advance(db, run.id, instance="worker-2")
    assert outcome.status == "Succeeded"
    sent = [r for r in web.requests if r.path.startswith(f"/echo/{key}/")]
    assert [r.path for r in sent] == [f"/echo/{key}/1", f"/echo/{key}/1", f"/echo/{key}/2"]
    assert sent[0].headers["Idempotency-Key"] == sent[1].headers["Idempotency-Key"]
    assert [a.status for a in get_run(db, admin, team, "f", run.id).actions] == ["Succeeded"] * 2


def test_the_direct_writer_waits_for_the_write_lock_without_blocking_the_loop(
    db, team, admin, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the direct writer is SQLite's")
    create_flow(db, admin, team, _two_calls("http://127.0.0.1:9/"), name="f")
    run = start_run(db, admin, team, "f", body={})
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        other = sqlite3.connect(str(db.url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(5)
        other.execute("COMMIT")
        other.close()

    async def go() -> tuple[int, float]:
        writer = JournalWriter(db, direct=True)
        holder = threading.Thread(target=hold_the_lock)
        holder.start()
        await asyncio.to_thread(locked.wait, 5)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        ticker = asyncio.create_task(tick())
        asyncio.get_running_loop().call_later(0.15, release.set)
        began = time.monotonic()
        await writer.write(lambda runs: runs.save_progress(run.id, '{"variables":{"x":1}}', utcnow()))
        waited = time.monotonic() - began
        ticker.cancel()
        await writer.aclose()
        holder.join()
        return ticks, waited

    ticks, waited = asyncio.run(go())
    assert waited >= 0.1 and ticks >= 10  # it waited for the lock, and the loop went on meanwhile
    with db.session() as session:
        assert FlowRuns(session).get(run.id).state == {"variables": {"x": 1}}  # type: ignore[union-attr]


class DyingExecutor(EmbeddedExecutor):
    """Accepts runs and never advances them: the process died right after the run was committed."""

    def submit(self, run_id: str) -> None:
        pass


def test_a_request_run_is_committed_claimed_answered_and_recoverable(db, team, admin, web: Backend) -> None:
    flow = create_flow(db, admin, team, _request_flow(f"{web.url}/echo/fast"), name="f")
    keyring = KeyRing.from_keys(KeyRing.generate_key())

    async def fire(executor: Any) -> tuple[str, Any]:
        runtime = FlowHost(db, keyring=keyring, executor=executor, scheduler=False)
        await runtime.start()
        try:
            sig = trigger_signature(runtime.signing_key, flow.id, "manual")
            options = {"sig": sig, "method": "POST", "headers": {}, "queries": {}, "body": {"n": 7}}
            run_id, future = await runtime.fire_request(flow.id, "manual", **options)
            answer = await runtime.wait_response(run_id, future, timeout=2 if executor else 30)
            return run_id, answer
        finally:
            await runtime.stop()

    run_id, answer = asyncio.run(fire(None))
    assert answer is not None and answer["body"]["body"] == {"echo": {"n": 7}}
    assert get_run(db, admin, team, "f", run_id).run.status == "Succeeded"

    # The run row is committed, claimed by its process, before anything runs; if that process dies,
    # the run is taken over once the claim expires.
    lost, answer = asyncio.run(fire(DyingExecutor))
    assert answer is None
    with db.session() as session:
        row = FlowRuns(session).get(lost)
        assert row is not None and row.status == "Running" and row.claimed_by is not None
        FlowRuns(session).set_state(lost, claimed_until=utcnow() - timedelta(seconds=1))
    assert _advance(db, lost, instance="another").status == "Succeeded"
    detail = get_run(db, admin, team, "f", lost)
    assert [a.status for a in detail.actions] == ["Succeeded"] * 3


def test_concurrent_writes_share_one_transaction_and_a_failing_one_is_undone_alone(db, team, admin) -> None:
    create_flow(db, admin, team, _two_calls("http://127.0.0.1:9/"), name="f")
    run = start_run(db, admin, team, "f", body={})

    def insert(path: str, seq: int) -> Callable[[FlowRuns], None]:
        return lambda runs: runs.insert_action(
            run.id, path, '{"status": "Succeeded"}', "Succeeded", seq, None
        )

    async def go() -> tuple[list[Any], int, int]:
        writer = JournalWriter(db, direct=True)
        writes = [writer.write(insert(f"A{n}", n)) for n in range(20)]
        writes.append(writer.write(insert("A3", 99)))  # the same action twice: a unique-key clash
        results = await asyncio.gather(*writes, return_exceptions=True)
        await writer.aclose()
        return results, writer.writes, writer.transactions

    results, writes, transactions = asyncio.run(go())
    assert isinstance(results[-1], Conflict)
    assert not any(isinstance(r, BaseException) for r in results[:-1])
    assert (writes, transactions) == (21, 1)  # one group commit for all of them
    with db.session() as session:
        stored = FlowRuns(session).actions(run.id)
        assert sorted(a.path for a in stored) == sorted(f"A{n}" for n in range(20))
        assert next(a.seq for a in stored if a.path == "A3") == 3  # the clash was undone alone


def _compose_flow() -> dict[str, Any]:
    return {
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Double": {"type": "Compose", "inputs": "@mul(triggerBody()['n'], 2)"},
            "Answer": {
                "type": "Response",
                "runAfter": {"Double": ["Succeeded"]},
                "inputs": {"statusCode": 200, "body": {"n": "@outputs('Double')"}},
            },
        },
    }


def test_concurrent_request_runs_group_commit_and_each_keeps_its_whole_history(
    db, team, admin, backend: str
) -> None:
    flow = create_flow(db, admin, team, _compose_flow(), name="f")
    keyring = KeyRing.from_keys(KeyRing.generate_key())

    async def fire_all() -> tuple[list[tuple[str, Any]], int, int]:
        runtime = FlowHost(db, keyring=keyring, scheduler=False)
        await runtime.start()
        try:
            sig = trigger_signature(runtime.signing_key, flow.id, "manual")

            async def one(n: int) -> tuple[str, Any]:
                options = {"sig": sig, "method": "POST", "headers": {}, "queries": {}, "body": {"n": n}}
                run_id, future = await runtime.fire_request(flow.id, "manual", **options)
                return run_id, await runtime.wait_response(run_id, future, timeout=60)

            answers = await asyncio.gather(*(one(n) for n in range(40)))
        finally:
            await runtime.stop()
        return answers, runtime.writer.writes, runtime.writer.transactions

    answers, writes, transactions = asyncio.run(fire_all())
    for n, (run_id, answer) in enumerate(answers):
        assert answer is not None and answer["body"] == {"n": 2 * n}
        detail = get_run(db, admin, team, "f", run_id)
        assert detail.run.status == "Succeeded" and detail.run.response == answer
        assert [(a.path, a.status) for a in detail.actions] == [
            ("Double", "Succeeded"),
            ("Answer", "Succeeded"),
        ]
    assert writes == 40  # each run one write: its row, its actions and its end (nothing has side effects)
    assert transactions < writes / 2  # concurrent runs shared their transactions (on the loop or a thread)


def test_a_waiting_caller_is_told_when_its_run_could_not_be_stored(db, team, admin, backend: str) -> None:
    """The run's row rides with its first commit; when that commit fails, the caller gets the
    error (not a 202 naming a run that does not exist) and no trace of the run is left."""
    if backend != "sqlite":
        pytest.skip("the refusal is a SQLite trigger")
    flow = create_flow(db, admin, team, _compose_flow(), name="f")
    keyring = KeyRing.from_keys(KeyRing.generate_key())
    refuse = "CREATE TRIGGER refuse_runs BEFORE INSERT ON flow_runs BEGIN SELECT RAISE(ABORT, 'refused'); END"
    raw = sqlite3.connect(str(db.url.database))
    raw.execute(refuse)
    raw.close()

    async def fire() -> tuple[str, BaseException | None]:
        runtime = FlowHost(db, keyring=keyring, scheduler=False)
        await runtime.start()
        try:
            sig = trigger_signature(runtime.signing_key, flow.id, "manual")
            options = {"sig": sig, "method": "POST", "headers": {}, "queries": {}, "body": {"n": 1}}
            run_id, future = await runtime.fire_request(flow.id, "manual", **options)
            try:
                await runtime.wait_response(run_id, future, timeout=30)
            except Conflict as exc:
                return run_id, exc
            return run_id, None
        finally:
            await runtime.stop()

    run_id, error = asyncio.run(fire())
    assert isinstance(error, Conflict)
    with db.session() as session:
        assert FlowRuns(session).get(run_id) is None
