"""The distributed rows of ``bench_flows.py``: the same flow and load on PostgreSQL, embedded and on
Celery with 1 and 2 workers, then pinned to cores with ``taskset`` to show what one more worker buys.

Not a test. PostgreSQL and Redis are started here from the test helpers (a throw-away cluster
and a throw-away Redis on free ports). Rows, each on a fresh database:

- ``embedded (PostgreSQL)``: ``tether serve`` advancing runs itself, for comparison;
- ``celery xN``: ``tether serve`` submitting every run to N ``tether worker`` processes (``--pool
  threads``, ``WORKER_CONCURRENCY`` runs in flight each, all on one event loop per process) over
  Redis; answers come back on the server's own Redis channel;
- ``pinned celery xN``: the same, with the server, wrk, PostgreSQL and Redis on core 0 and the N
  workers on core 1 (``taskset``), so the worker core's load is read apart from the rest.

CPU per run is read from /proc per process family (a process and its descendants), before and
after each measurement, so other work on the machine does not change it: ``CPU`` is server +
workers (the acceptance figure, ≤ 5 ms), and the split shows server / workers / PostgreSQL /
Redis. ``bench_flows.py`` calls :func:`measure_celery`; run alone, this prints only these rows:

    .venv/bin/python bench/bench_flows_celery.py [--seconds 10] [--no-pinned]

Model (how throughput scales with workers and PostgreSQL). One run of Request → Compose → Http →
Response costs c_s on the server (HTTP in and out, the run's insert, one LPUSH; the answer arrives
on the server's own pub/sub channel), c_w on a worker (BRPOP and the acks_late bookkeeping, the
lease, the claim, three journal commits, the Http call, one PUBLISH), c_pg in PostgreSQL (five
short transactions, the lease's two statements) and c_r in Redis. A worker is one process on one
event loop, so it advances at most 1/c_w runs/s whatever its concurrency (which only hides
latency); N workers reach N/c_w until something else runs out. On K cores a run costs
c = c_s + c_w + c_pg + c_r of CPU in all, so

    throughput ≤ min(N / c_w, S / c_s, K / c)        (S server processes)

Measured here (2 cores shared with other work, load average 12-14; figures vary ±30% between
runs on this machine, the same-run ratios less): c_s ≈ 1.8-2.8 ms, c_w ≈ 4.4-8 ms,
c_pg ≈ 0.2-0.9 ms, c_r ≈ 0.2-0.3 ms; c ≈ 6.5-11 ms (it was ~16 ms before issue 14; alternated
in the same minutes, the previous executor cost 10.8-11.3 ms and 92-106 runs/s, this one 7.2-8.5 ms
and 122-150 runs/s, PostgreSQL's share 1.5-1.8 ms then 0.1-0.4 ms). So the
worker saturates first: one worker tops out near 1/c_w ≈ 150-220 runs/s with its core ~75% busy
(the rest is waiting); the machine (K/c ≈ 2/7 ms ≈ 290 runs/s when idle) comes next, so on
2 cores a second worker can add at most what the second core has left after the server and
PostgreSQL — measured, +15-25% unpinned and nothing when both workers share the worker core
(``pinned celery x2``). From the third core on, each worker process adds ~1/c_w until the
server's S/c_s (~400-500 runs/s per ``tether serve`` process: add replicas behind the
proxy), then PostgreSQL (~0.5 ms a run: ~2000 runs/s per core it gets) and Redis (one thread,
~0.25 ms a run: ~4000 runs/s) become the limits, in that order.

Where a worker's c_w goes (py-spy ``--gil`` on one worker under this load, shares of its samples):
journal commits 28% (the transaction in a thread 16%, building it on the loop 12%), the claim
10-18% (its UPDATE renders its ``status IN (...)`` list at every execution), the Http action
9-12%, kombu's receive and ack bookkeeping 10%, the event loop's own turns 9%, Celery's task
tracing 2-3%, the lease 6% (2% since its two statements are prepared on the raw psycopg
connection: 204-226 µs of CPU per run before, 60-77 µs after, measured alone over 2000 leases).
The claim now runs on the Celery pool thread, which waits anyway (a ``to_thread`` round trip
is ~50 µs of CPU less); workers keep no remote-control channel, no events, no rate limits.
Tried and dropped: one ``JournalWriter`` per worker process so concurrent runs share commits
— on PostgreSQL each write then costs a SAVEPOINT and its RELEASE, and the process's commits
queue behind one another: 10.7-13.7 ms a run and 46-62 runs/s, against 9.5-11.9 ms and 71-79
runs/s for a writer per run (alternated, 3 rows each, load 15-20). What is left of c_w is
mostly in the journal and the claim (``hosting``, ``store``) and the Http action (``runtime``);
kombu and Celery together are ~15%.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _loopback import nginx, require
from bench_flows import CONCURRENCY, PASSWORD, TETHER, callback, cpu_seconds, post_script, tether_serve

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.* hold the PostgreSQL and Redis helpers
WORKER_POOL, WORKER_CONCURRENCY = "threads", 16
#: (label, workers, pinned)
MODES = (
    ("embedded (PostgreSQL)", 0, False),
    ("celery x1", 1, False),
    ("celery x2", 2, False),
    ("pinned celery x1", 1, True),
    ("pinned celery x2", 2, True),
)
FRONT_CORE, WORKER_CORE = "0", "1"  # pinned rows: server, wrk, PostgreSQL, Redis | workers
_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _workers(
    count: int, env: dict[str, str], folder: Path, name: str, core: str | None
) -> list[subprocess.Popen[bytes]]:
    processes = []
    for index in range(count):
        command = [TETHER, "worker", "--pool", WORKER_POOL, "--concurrency", str(WORKER_CONCURRENCY)]
        command += ["--name", f"{name}-{index}@%h", "--loglevel", "WARNING"]
        if core is not None:
            command = ["taskset", "-c", core, *command]
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


def _family(root: int) -> list[int]:
    """``root`` and its descendants now (PostgreSQL backends, prefork children)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
    family, todo = [], [root]
    while todo:
        pid = todo.pop()
        family.append(pid)
        todo.extend(children.get(pid, ()))
    return family


@contextlib.contextmanager
def _pinned(roots: list[int], core: str) -> Iterator[None]:
    """Pin every thread of the processes under ``roots`` (and so what they fork later) to ``core``."""
    every = ",".join(str(c) for c in range(os.cpu_count() or 1))
    pids = [pid for root in roots for pid in _family(root)]
    for pid in pids:
        subprocess.run(["taskset", "-a", "-p", "-c", core, str(pid)], capture_output=True)
    try:
        yield
    finally:
        for pid in [pid for root in roots for pid in _family(root)]:
            subprocess.run(["taskset", "-a", "-p", "-c", every, str(pid)], capture_output=True)


def _cpu(families: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(pid) for pid in roots) for name, roots in families.items()}


def measure(
    url: str, seconds: float, script: Path, families: dict[str, list[int]], wrk_core: str | None = None
) -> dict[str, Any]:
    """wrk with ``CONCURRENCY`` connections; runs/s, latency, errors and CPU ms per run by family."""
    command = [
        "wrk",
        "-t2",
        f"-c{CONCURRENCY}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(script),
    ]
    if wrk_core is not None:
        command = ["taskset", "-c", wrk_core, *command]
    before, started = _cpu(families), time.monotonic()
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60)
    wall, after = time.monotonic() - started, _cpu(families)
    text = output.stdout
    requests = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    broken = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    latency = {f"p{m[0]}": float(m[1]) * _UNITS[m[2]] for m in _LATENCY.findall(text)}
    split = {name: round((after[name] - before[name]) * 1000 / max(requests, 1), 2) for name in families}
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),  # type: ignore[union-attr]
        "p50_ms": latency.get("p50"),
        "p99_ms": latency.get("p99"),
        "errors": (int(failed.group(1)) if failed else 0) + (sum(map(int, broken.groups())) if broken else 0),
        "requests": requests,
        # The acceptance figure: what the Tether processes (server and workers) spend per run.
        "cpu_ms_per_run": round(split.get("server", 0) + split.get("workers", 0), 2),
        "cpu_split_ms": split,
        # How busy each family kept the machine: CPU seconds per wall second (1.0 = one core).
        "cores_busy": {name: round((after[name] - before[name]) / wall, 2) for name in families},
    }


def measure_celery(
    folder: Path, backend: str, seconds: float, script: Path, *, pinned: bool = True
) -> dict[str, dict[str, Any]]:
    """The distributed rows; raises FileNotFoundError when PostgreSQL or Redis is not installed."""
    from tests.conftest import PG_BIN, PostgresServer
    from tests.executors.conftest import REDIS_SERVER, RedisServer

    for binary in (PG_BIN / "initdb", Path(REDIS_SERVER)):
        if not binary.exists():
            raise FileNotFoundError(f"{binary} not found (apt-get install -y postgresql redis-server)")
    if pinned and (shutil.which("taskset") is None or (os.cpu_count() or 1) < 2):
        pinned = False
    pg, redis_server = PostgresServer(), RedisServer()
    rows: dict[str, dict[str, Any]] = {}
    try:
        pg.start()
        redis_server.start()
        postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
        redis_pid = int((redis_server.dir / "redis.pid").read_text().strip())
        for label, count, pin in MODES:
            if pin and not pinned:
                continue
            name = "bench_" + label.replace(" ", "_").replace("(", "").replace(")", "").lower()
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
                workers = _workers(count, env, folder, name, WORKER_CORE if pin else None)
                try:
                    url = callback(tether, backend)  # waits for a worker to answer, when there are workers
                    families = {
                        "server": [pid],
                        "workers": [w.pid for w in workers],
                        "postgres": [postmaster],
                        "redis": [redis_pid],
                    }
                    front = [pid, postmaster, redis_pid]
                    with _pinned(front, FRONT_CORE) if pin else contextlib.nullcontext():
                        wrk_core = FRONT_CORE if pin else None
                        measure(url, 2, script, families, wrk_core)  # warm-up
                        rows[label] = measure(url, seconds, script, families, wrk_core)
                finally:
                    _stop(workers)
    finally:
        redis_server.stop()
        pg.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measurement")
    parser.add_argument("--no-pinned", action="store_true", help="skip the rows pinned with taskset")
    args = parser.parse_args()
    require("nginx", "wrk")
    folder = Path(tempfile.mkdtemp(prefix="tether-bench-celery-"))
    try:
        script = post_script(folder)
        with nginx(folder) as urls:
            rows = measure_celery(
                folder, f"{urls.backend}/data", args.seconds, script, pinned=not args.no_pinned
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()
    print(
        f"Request → Compose → Http → Response on PostgreSQL; {time.strftime('%H:%M:%S')}, load {load[0]:.1f}"
    )
    baseline = rows[MODES[0][0]]["rps"]
    for label, row in rows.items():
        ratio = row["rps"] / baseline
        split = " ".join(f"{k} {v:.2f}" for k, v in row["cpu_split_ms"].items())
        busy = " ".join(f"{k} {v:.2f}" for k, v in row["cores_busy"].items())
        print(f"  {label:<22} {row['rps']:8.1f} runs/s {ratio:6.2f}x  p50 {row['p50_ms']:7.1f} ms  "
              f"CPU {row['cpu_ms_per_run']:.2f} ms/run  errors {row['errors']}\n"
              f"  {'':<22} CPU ms/run: {split}; cores busy: {busy}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
