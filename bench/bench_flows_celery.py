"""The distributed rows of ``bench_flows.py``: the same flow and load on PostgreSQL, embedded and on
Celery with 1 and 2 workers.

Not a test. PostgreSQL and Redis are started here from the test helpers (a throw-away cluster
and a throw-away Redis on free ports). Rows, each on a fresh database:

- ``embedded (PostgreSQL)``: ``tether serve`` advancing runs itself, for comparison;
- ``celery xN``: ``tether serve`` submitting every run to N ``tether worker`` processes (prefork,
  ``WORKER_CONCURRENCY`` each) over Redis; answers come back over Redis.

CPU milliseconds per run count the server and the workers. ``bench_flows.py`` calls
:func:`measure_celery`; run alone, this prints only these rows, with their ratio to the embedded
one (the baseline measured in the same run):

    .venv/bin/python bench/bench_flows_celery.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _loopback import nginx, require
from bench_flows import PASSWORD, TETHER, callback, load, post_script, tether_serve

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.* hold the PostgreSQL and Redis helpers
WORKER_CONCURRENCY = 4
MODES = (("embedded (PostgreSQL)", 0), ("celery x1", 1), ("celery x2", 2))


def _workers(count: int, env: dict[str, str], folder: Path, name: str) -> list[subprocess.Popen[bytes]]:
    processes = []
    for index in range(count):
        command = [TETHER, "worker", "--pool", "prefork", "--concurrency", str(WORKER_CONCURRENCY)]
        command += ["--name", f"{name}-{index}@%h", "--loglevel", "WARNING"]
        log = (folder / f"{name}-worker-{index}.log").open("w")
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
    return processes


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def measure_celery(folder: Path, backend: str, seconds: float, script: Path) -> dict[str, dict[str, Any]]:
    """The distributed rows; raises FileNotFoundError when PostgreSQL or Redis is not installed."""
    from tests.conftest import PG_BIN, PostgresServer
    from tests.executors.conftest import REDIS_SERVER, RedisServer

    for binary in (PG_BIN / "initdb", Path(REDIS_SERVER)):
        if not binary.exists():
            raise FileNotFoundError(f"{binary} not found (apt-get install -y postgresql redis-server)")
    pg, redis_server = PostgresServer(), RedisServer()
    rows: dict[str, dict[str, Any]] = {}
    try:
        pg.start()
        redis_server.start()
        for label, count in MODES:
            name = "bench_" + label.split(" ")[0] + str(count)
            pg.execute(f"CREATE DATABASE {name}")
            env = {
                **os.environ,
                "TETHER_HOME": str(folder / name),
                "TETHER_ADMIN_PASSWORD": PASSWORD,
                "TETHER_DATABASE_URL": pg.url(name),
                "TETHER_BROKER_URL": redis_server.url(),
                "TETHER_BROKER_VISIBILITY_TIMEOUT": "60",
            }
            if count == 0:
                env.pop("TETHER_BROKER_URL")
            with tether_serve(folder, name, 1, env) as (tether, pid):
                workers = _workers(count, env, folder, name)
                try:
                    url = callback(tether, backend)  # waits for a worker to answer, when there are workers
                    load(url, 2, script)
                    pids = (pid, *(w.pid for w in workers))
                    rows[label] = load(url, seconds, script, processes=pids)
                finally:
                    _stop(workers)
    finally:
        redis_server.stop()
        pg.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measurement")
    args = parser.parse_args()
    require("nginx", "wrk")
    folder = Path(tempfile.mkdtemp(prefix="tether-bench-celery-"))
    try:
        script = post_script(folder)
        with nginx(folder) as urls:
            rows = measure_celery(folder, f"{urls.backend}/data", args.seconds, script)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"Request → Compose → Http → Response on PostgreSQL; {time.strftime('%H:%M:%S')}")
    baseline = rows[MODES[0][0]]["rps"]
    for label, row in rows.items():
        ratio = row["rps"] / baseline
        print(f"  {label:<22} {row['rps']:8.1f} runs/s {ratio:6.2f}x  p50 {row['p50_ms']:7.1f} ms  "
              f"CPU {row['cpu_ms_per_run']:.2f} ms/run  errors {row['errors']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
