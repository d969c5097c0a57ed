"""Two server processes with schedulers, one worker: each Recurrence tick fires once and runs once.

The scheduler's own tests race two schedulers in threads; this races two *processes* against
PostgreSQL, as two ``tether serve`` replicas would, with runs going to a ``tether worker``.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest

from tests.executors._kit import chain_of_http_calls, prepare, wait_for_runs
from tests.executors.conftest import CountingBackend, WorkerPool
from tether.store import FlowRuns, FlowTick

pytestmark = pytest.mark.postgres

SERVE_SECONDS = 6.0
SCHEDULER_PROCESS = """
import asyncio, sys
from tether.config import load_settings
from tether.executors import distributed_flow_host
from tether.store import Database

settings = load_settings()
database = Database(settings.database_url)

async def main() -> None:
    runtime = distributed_flow_host(database, settings, tick_seconds=0.05, instance=sys.argv[2])
    await runtime.start()
    await asyncio.sleep(float(sys.argv[1]))
    await runtime.stop()

asyncio.run(main())
database.close()
"""


def test_two_server_processes_fire_each_tick_once(
    worker_pool: WorkerPool, counting_backend: CountingBackend
) -> None:
    from tether import services

    db, principal = prepare(worker_pool.database_url)
    definition = chain_of_http_calls(counting_backend.url, 1)
    recurrence = {"frequency": "Second", "interval": 1}
    definition["triggers"] = {"tick": {"type": "Recurrence", "recurrence": recurrence}}
    servers: list[subprocess.Popen[bytes]] = []
    try:
        worker_pool.start("w1")
        services.create_flow(db, principal, "team", definition, name="ticking")
        env = {**worker_pool.environment(), "PYTHONWARNINGS": "ignore"}
        servers = [
            subprocess.Popen(
                [sys.executable, "-c", SCHEDULER_PROCESS, str(SERVE_SECONDS), name],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for name in ("serve-a", "serve-b")
        ]
        # Each serves SERVE_SECONDS; the rest is starting Python on a machine that may be saturated.
        outputs = [server.communicate(timeout=240)[0].decode(errors="replace") for server in servers]
        assert [s.returncode for s in servers] == [0, 0], outputs
        with db.session() as session:
            ticks = sorted(session.query(FlowTick).all(), key=lambda t: t.tick)
        assert len(ticks) >= 3, (ticks, outputs)
        # Ticks are whole seconds apart: none fired twice (the runs below prove it too). A gap longer
        # than a second is the scheduler skipping ticks missed while the processes were starting.
        gaps = [b.tick - a.tick for a, b in itertools.pairwise(ticks)]
        assert all(g >= timedelta(seconds=1) and g.total_seconds().is_integer() for g in gaps), gaps
        assert gaps.count(timedelta(seconds=1)) >= 2, gaps
        run_ids = [t.run_id for t in ticks]
        wait_for_runs(db, run_ids, timeout=60, diagnostics=worker_pool.logs)
        with db.session() as session:
            runs = FlowRuns(session)
            assert {runs.get(run_id).status for run_id in run_ids} == {"Succeeded"}  # type: ignore[union-attr]
        calls = Counter(key for key, _action in counting_backend.snapshot())
        assert len(calls) == len(ticks) and set(calls.values()) == {1}
        print(f"\n{len(ticks)} ticks in {SERVE_SECONDS:.0f}s; fired by {Counter(t.fired_by for t in ticks)}")
    finally:
        for server in servers:  # one that timed out is still running: stop and reap it
            if server.poll() is None:
                server.kill()
            server.communicate()
        db.close()
