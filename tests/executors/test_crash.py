"""The acceptance crash test: workers SIGKILLed mid-run lose no run and repeat no finished action.

20 runs of a 10-action flow (each action an Http call to a counting backend that records the
``Idempotency-Key``) on two ``tether worker`` processes (real Redis, real PostgreSQL); one worker is
SIGKILLed at seeded random moments and replaced, so the pool stays at two. Every run must succeed,
finished once; every action instance must reach the backend once, except those in flight when their
worker died (one per run slot: one with ``--pool solo``, up to four with ``--pool threads -c 4``),
which may reach it twice, with the same key.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict

import pytest

from tests.executors._kit import chain_of_http_calls, prepare, start_runs, statuses, wait_for_runs
from tests.executors.conftest import CountingBackend, WorkerPool
from tether.config import load_settings
from tether.executors import CeleryExecutor
from tether.flows.engine import idempotency_key
from tether.store import FlowRuns

pytestmark = pytest.mark.postgres

RUNS, ACTIONS = 20, 10
SEED = 20261127
KILLS = 4
# Seconds for all runs to finish. The test needs about 20 on a quiet machine; beside a CPU burner on a
# 1.3-core share it took more than 100 (8 of 20 runs still Running at 100 s). A lost run never
# finishes, so a generous deadline still catches one.
DEADLINE = 300.0


@pytest.mark.parametrize(
    ("pool", "concurrency"),
    [
        pytest.param("solo", 1, id="solo"),
        # The default pool: runs share one event loop, so one kill interrupts up to 4 at once.
        pytest.param("threads", 4, id="threads"),
    ],
)
def test_sigkilled_workers_lose_no_run_and_repeat_no_finished_action(
    worker_pool: WorkerPool, counting_backend: CountingBackend, pool: str, concurrency: int
) -> None:
    rng = random.Random(SEED)
    counting_backend.delay = 0.03  # each call takes a little time, so kills land mid-run
    db, principal = prepare(worker_pool.database_url)
    settings = load_settings(
        broker_url=worker_pool.broker_url,
        database_url=worker_pool.database_url,
        home=worker_pool.home,
        broker_visibility_timeout=worker_pool.visibility_timeout,
    )
    try:
        run_ids = start_runs(db, principal, chain_of_http_calls(counting_backend.url, ACTIONS), RUNS)
        started = time.monotonic()
        for name in ("w1", "w2"):
            worker_pool.start(name, pool=pool, concurrency=concurrency)
        executor = CeleryExecutor(settings)
        for run_id in run_ids:
            executor.submit(run_id)
        executor.app.close()

        # Kill when the backend has seen a random number of calls: then runs are surely in flight.
        kill_at = sorted(rng.sample(range(15, RUNS * ACTIONS - 30), KILLS))
        kills: list[tuple[float, str, int]] = []

        def chaos() -> None:
            done = len(counting_backend.snapshot())
            if not kill_at or done < kill_at[0]:
                return
            kill_at.pop(0)
            victim = rng.choice(worker_pool.alive())
            victim.kill()
            kills.append((round(time.monotonic() - started, 2), victim.name, done))
            worker_pool.start(f"w{len(worker_pool.workers) + 1}", pool=pool, concurrency=concurrency)

        elapsed = wait_for_runs(db, run_ids, timeout=DEADLINE, during=chaos, diagnostics=worker_pool.logs)

        final = statuses(db, run_ids)
        assert set(final.values()) == {"Succeeded"}, (final, worker_pool.logs())
        assert len(kills) == KILLS, f"only {len(kills)} kills: the test proved less than it should"
        calls = counting_backend.snapshot()
        per_key = Counter(key for key, _action in calls)
        actions_of_key: dict[str, set[str]] = defaultdict(set)
        for key, action in calls:
            actions_of_key[key].add(action)
        names = [f"A{i}" for i in range(1, ACTIONS + 1)]
        expected = {idempotency_key(run_id, name): name for run_id in run_ids for name in names}
        assert set(per_key) == set(expected), "calls without a key, or with a key no action has"
        assert all(actions_of_key[key] == {action} for key, action in expected.items())
        repeated = {key: n for key, n in per_key.items() if n > 1}
        # At most the actions in flight repeat: at most twice, and at most one per run slot killed.
        assert all(n == 2 for n in repeated.values()), repeated
        assert len(repeated) <= len(kills) * concurrency, (repeated, kills)
        # History agrees: every action instance Succeeded, with the key the backend saw.
        with db.session() as session:
            for run_id in run_ids:
                rows = FlowRuns(session).actions(run_id)
                assert [(r.path, r.status) for r in rows] == [(name, "Succeeded") for name in names]
                assert all(r.idempotency_key == idempotency_key(run_id, r.path) for r in rows)
        print(
            f"\n{RUNS} runs x {ACTIONS} actions in {elapsed:.1f}s; kills (t, worker, calls so far): "
            f"{kills}; repeated in-flight calls: {len(repeated)}"
        )
    finally:
        db.close()
