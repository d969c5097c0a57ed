"""Benchmark: the SQLite WAL under sustained flow load (default 10 minutes), and after a clean stop.

Not a test (``tests/api/test_wal_bounded.py`` is the short version that runs in CI). The real
``tether serve`` on SQLite runs a Request → Compose → Compose → Response flow fired by 16
concurrent callers for ``--seconds``; every second the WAL and database sizes are sampled. The
baseline in the same run is the database file itself: what the runs really stored, against what
the WAL holds on top of it. Then SIGTERM, and the WAL size left behind.

    .venv/bin/python bench/bench_wal.py [--seconds 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _loopback import RESULTS, free_port, wait_for

PASSWORD = "bench-wal-password"
LIMIT_MB = 64
FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
    "actions": {
        "First": {"type": "Compose", "inputs": {"got": "@triggerBody()"}},
        "Second": {"type": "Compose", "runAfter": {"First": ["Succeeded"]}, "inputs": "@outputs('First')"},
        "Answer": {
            "type": "Response",
            "runAfter": {"Second": ["Succeeded"]},
            "inputs": {"statusCode": 200, "body": "@outputs('Second')"},
        },
    },
}


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def _load(url: str, seconds: float, home: Path) -> dict[str, Any]:
    wal, db = home / "tether.db-wal", home / "tether.db"
    stop = time.monotonic() + seconds
    runs = failures = 0
    samples: list[tuple[float, int, int]] = []

    async def caller(client: httpx.AsyncClient) -> None:
        nonlocal runs, failures
        while time.monotonic() < stop:
            answer = await client.post(url, json={"n": runs, "padding": "x" * 200})
            runs += 1
            failures += answer.status_code != 200

    async def sampler() -> None:
        start = time.monotonic()
        while time.monotonic() < stop:
            samples.append((round(time.monotonic() - start, 1), _size(wal), _size(db)))
            await asyncio.sleep(1)

    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(sampler(), *(caller(client) for _ in range(16)))
    peak = max(s[1] for s in samples)
    return {
        "runs": runs,
        "failures": failures,
        "peak_wal_mb": round(peak / 2**20, 1),
        "final_db_mb": round(_size(db) / 2**20, 1),
        "samples": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        port = free_port()
        env = {**os.environ, "TETHER_HOME": str(home), "TETHER_ADMIN_PASSWORD": PASSWORD}
        tether = str(Path(sys.executable).parent / "tether")
        with (Path(folder) / "serve.log").open("w") as log:
            server = subprocess.Popen(
                [tether, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                base = f"http://127.0.0.1:{port}"
                wait_for(f"{base}/api/v1/health", timeout=120)
                with httpx.Client(base_url=base, timeout=60) as http:
                    token = http.post("/api/v1/tokens", json={"name": "b"}, auth=("admin", PASSWORD)).json()
                    http.headers["Authorization"] = f"Bearer {token['token']}"
                    http.post("/api/v1/environments/default/flows", json={"name": "wal", "definition": FLOW})
                    url = http.post("/api/v1/environments/default/flows/wal/callback-url").json()["value"]
                result = asyncio.run(_load(url, args.seconds, home))
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=60)
            finally:
                if server.poll() is None:
                    server.kill()
                    server.wait()
        result["wal_after_stop_bytes"] = _size(home / "tether.db-wal")
    result["load_average"] = os.getloadavg()
    print(
        f"{result['runs']} runs in {args.seconds:.0f} s ({result['runs'] / args.seconds:.0f}/s, "
        f"{result['failures']} failed); peak WAL {result['peak_wal_mb']} MB (limit {LIMIT_MB} MB) "
        f"beside a {result['final_db_mb']} MB database; WAL after SIGTERM: "
        f"{result['wal_after_stop_bytes']} bytes; load average {result['load_average'][0]:.1f}"
    )
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"wal-{stamp}.json").write_text(json.dumps({**result, "machine": platform.node()}, indent=1))
    return 0 if result["peak_wal_mb"] < LIMIT_MB and result["wal_after_stop_bytes"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
