"""Benchmark: CPU each CLI command costs before it does its work (issue "house": < 300 ms).

Not a test. Each command runs ``--repeat`` times in a fresh interpreter; the figure is the median
user + system CPU of the child process (``RUSAGE_CHILDREN``), which a busy machine barely moves,
unlike wall time. Baselines measured in the same run: a bare ``python -c pass``, and importing
every command module at once (what each command paid before the root became lazy).

    .venv/bin/python bench/bench_cli_start.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "samples"
TETHER = str(Path(sys.executable).parent / "tether")
EVERY_MODULE = "import " + ", ".join(
    f"tether.cli.{name}" for name in ("demo", "serve", "worker", "connector", "flow", "validate", "importing")
)


def cpu_ms(argv: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return 1000 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    swagger = next((SHARED / "swagger2").rglob("*.json"), None)
    flow = next((SHARED / "flows").rglob("*.json"), None)
    rows = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "every command module (before)": [sys.executable, "-c", EVERY_MODULE],
        "tether --help": [TETHER, "--help"],
        "tether --version": [TETHER, "--version"],
        "tether expression eval": [TETHER, "expression", "eval", "@add(1, 2)"],
    }
    if swagger is not None:
        rows["tether validate FILE"] = [TETHER, "validate", str(swagger)]
    if flow is not None:
        rows["tether flow validate FILE"] = [TETHER, "flow", "validate", str(flow)]
    print(f"{'command':34} {'CPU ms (median)':>16}")
    for name, argv in rows.items():
        figure = statistics.median(cpu_ms(argv) for _ in range(args.repeat))
        print(f"{name:34} {figure:16.0f}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
