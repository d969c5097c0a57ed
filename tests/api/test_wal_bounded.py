"""The SQLite WAL stays bounded under steady flow load, and a clean stop empties it.

Through the real ``tether serve`` on SQLite: a Request → Compose → Compose → Response flow fired
by 16 concurrent callers. Each run adds ~90 KB to the WAL here, so the runs below would leave
well over 100 MB of WAL if checkpoints never reset it (273 MB after 3,000 runs, measured before
the fix); the journal writer must keep it under 64 MB, and SIGTERM must leave it empty.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tether.api import free_port

RUNS = 1_800
LIMIT = 64 * 1024 * 1024
PASSWORD = "wal-test-password-1"
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


def _wait_healthy(base: str, server: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        assert server.poll() is None, "tether serve exited during start-up"
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a condition with a deadline, not synchronising on time
    raise AssertionError("tether serve did not become healthy in time")


async def _fire(url: str, wal: Path) -> int:
    """Fire ``RUNS`` runs from 16 callers; the largest WAL size seen after each run."""
    peak = 0
    remaining = iter(range(RUNS))
    async with httpx.AsyncClient(timeout=120) as client:

        async def caller() -> None:
            nonlocal peak
            for n in remaining:
                answer = await client.post(url, json={"n": n, "padding": "x" * 200})
                assert answer.status_code == 200, answer.text
                peak = max(peak, wal.stat().st_size if wal.exists() else 0)

        await asyncio.gather(*(caller() for _ in range(16)))
    return peak


def test_wal_stays_bounded_under_flow_load_and_is_emptied_by_a_clean_stop(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TETHER_HOME": str(home), "TETHER_ADMIN_PASSWORD": PASSWORD}
    command = [str(Path(sys.executable).parent / "tether"), "serve", "--port", str(port)]
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(base, server, time.monotonic() + 120)
            with httpx.Client(base_url=base, timeout=60) as http:
                answer = http.post("/api/v1/tokens", json={"name": "wal"}, auth=("admin", PASSWORD))
                http.headers["Authorization"] = f"Bearer {answer.json()['token']}"
                http.post("/api/v1/environments/default/flows", json={"name": "wal", "definition": FLOW})
                url = http.post("/api/v1/environments/default/flows/wal/callback-url").json()["value"]
            wal = home / "tether.db-wal"
            peak = asyncio.run(_fire(url, wal))
            assert peak < LIMIT, f"the WAL reached {peak / 2**20:.0f} MB under load"
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=60) is not None
        finally:
            if server.poll() is None:
                server.kill()
            server.wait(timeout=30)
    wal_after = wal.stat().st_size if wal.exists() else 0
    assert wal_after == 0, f"{wal_after} bytes of WAL left after a clean stop"
