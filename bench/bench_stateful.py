"""Benchmark: the stateful row of ``bench_flows.py`` alone, A/B against another checkout, with bytes.

Not a test. ``tether serve`` (one process, SQLite in WAL mode) runs the Stateful Request → Compose
→ Compose → Response flow under wrk (``bench_flows.CONCURRENCY`` connections); each row gives
runs/s, the server's CPU milliseconds per run (from /proc) and what a run costs on disk:

- ``db B/run``: the database's used pages (page count minus free pages, after a TRUNCATE
  checkpoint) over the runs stored;
- ``wal B/run``: bytes the server process wrote to storage during the measurement
  (``write_bytes`` of /proc/PID/io: WAL frames and checkpoints) over the runs.

Rows alternate between this checkout and ``--base`` (e.g. ``git worktree add --detach
/tmp/base-storage main``), run with the same interpreter and ``PYTHONPATH=<base>/src``, so the
same machine load falls on both; ``--repeat`` pairs (≥ 3 for a range).

    .venv/bin/python bench/bench_stateful.py --base /tmp/base-storage [--seconds 10] [--repeat 3]

Measured 2026-12-04 03:56-04:28 UTC, load average 17-23 (other engineers and a CPU burner), two
runs of 3 alternating pairs (8 s and 10 s rows), this branch vs main at 4710305: CPU 0.56-0.79
ms/run vs 0.58-0.80; database 2056-2063 B/run vs 3594-3611 (-43%); bytes written 29-33 KB/run
vs 52-61 KB (-45%); runs/s 356-859 vs 311-778 (throughput follows the machine's load here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from _loopback import require
from bench_flows import PASSWORD, compose_callback, load, post_script, tether_serve


def io_written(pid: int) -> int:
    """Bytes process ``pid`` (and nothing else) caused to be written to storage, from /proc."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def stored(home: Path) -> tuple[int, int]:
    """Runs stored and the database's used bytes, after truncating the WAL into it."""
    path = home / "tether.db"
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        runs = connection.execute("SELECT count(*) FROM flow_runs").fetchone()[0]
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()
    return int(runs), int((pages - free) * size)


def measure(folder: Path, name: str, source: Path | None, seconds: float) -> dict[str, Any]:
    home = folder / f"home-{name}"
    env = {**os.environ, "TETHER_HOME": str(home), "TETHER_ADMIN_PASSWORD": PASSWORD}
    for variable in ("TETHER_DATABASE_URL", "TETHER_BROKER_URL"):
        env.pop(variable, None)
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
    script = post_script(folder)
    with tether_serve(folder, name, 1, env) as (tether, pid):
        url = compose_callback(tether, "Stateful")
        load(url, 2, script)
        runs_before, bytes_before = stored(home)
        written = io_written(pid)
        row = load(url, seconds, script, processes=(pid,))
        written = io_written(pid) - written
        runs_after, bytes_after = stored(home)
    runs = max(1, runs_after - runs_before)
    row["db_bytes_per_run"] = round((bytes_after - bytes_before) / runs)
    row["wal_bytes_per_run"] = round(written / runs)
    row["runs"] = runs
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="another checkout to alternate with (its src/)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    require("wrk")
    folder = Path(tempfile.mkdtemp(prefix="tether-bench-stateful-"))
    variants: list[tuple[str, Path | None]] = [("this", None)]
    if args.base is not None:
        variants.append(("base", args.base.resolve()))
    print(f"load average {os.getloadavg()[0]:.2f}; {args.seconds:.0f}s per row", flush=True)
    print(f"  {'row':<10} {'runs/s':>8} {'p50 ms':>7} {'CPU ms/run':>10} {'db B/run':>9} {'wal B/run':>9}")
    try:
        for repetition in range(args.repeat):
            for name, source in variants:
                row = measure(folder, f"{name}-{repetition}", source, args.seconds)
                print(
                    f"  {name:<10} {row['rps']:8.1f} {row['p50_ms']:7.1f} {row['cpu_ms_per_run']:10.2f} "
                    f"{row['db_bytes_per_run']:9d} {row['wal_bytes_per_run']:9d}",
                    flush=True,
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
