"""Group commits through the real ``tether serve`` on SQLite: concurrent runs keep their whole
history, and a server killed between commits loses no run it answered.

The journal writer commits the writes of concurrent runs in one transaction (hosting/_writer.py);
a caller of a Request trigger gets the Response's answer only once the commit that stored it is
done. So after a SIGKILL in the middle of the load, every run whose caller had its answer must
be in the database, Succeeded, with every action; a run whose caller had no answer may be there
unfinished (its claim expires and it is resumed) or not at all (it never reached a commit).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tether.api import free_port
from tether.store._run_segments import merged

PASSWORD = "group-commit-password-1"
CALLERS = 16
FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
    "actions": {
        "Double": {"type": "Compose", "inputs": "@mul(triggerBody()['n'], 2)"},
        "Plus": {
            "type": "Compose",
            "runAfter": {"Double": ["Succeeded"]},
            "inputs": "@add(outputs('Double'), 1)",
        },
        "Answer": {
            "type": "Response",
            "runAfter": {"Plus": ["Succeeded"]},
            "inputs": {"statusCode": 200, "body": {"n": "@outputs('Plus')"}},
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


async def _fire(url: str, server: subprocess.Popen[bytes], kill_after: int) -> dict[str, int]:
    """Runs from ``CALLERS`` callers until the server dies; SIGKILL once ``kill_after`` were answered.
    Returns the answered runs: run id ⇒ the n it was fired with."""
    answered: dict[str, int] = {}
    counter = iter(range(1_000_000))
    async with httpx.AsyncClient(timeout=60) as client:

        async def caller() -> None:
            for n in counter:
                try:
                    answer = await client.post(url, json={"n": n})
                except httpx.TransportError:
                    return  # the server is gone
                assert answer.status_code == 200, answer.text
                assert answer.json() == {"n": 2 * n + 1}
                answered[answer.headers["x-ms-workflow-run-id"]] = n
                if len(answered) >= kill_after and server.poll() is None:
                    server.send_signal(signal.SIGKILL)

        await asyncio.gather(*(caller() for _ in range(CALLERS)))
    return answered


def test_a_killed_server_loses_no_answered_run_and_every_answered_run_is_complete(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TETHER_HOME": str(home), "TETHER_ADMIN_PASSWORD": PASSWORD}
    env.pop("TETHER_DATABASE_URL", None)
    command = [str(Path(sys.executable).parent / "tether"), "serve", "--port", str(port)]
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(base, server, time.monotonic() + 120)
            with httpx.Client(base_url=base, timeout=60) as http:
                answer = http.post("/api/v1/tokens", json={"name": "gc"}, auth=("admin", PASSWORD))
                http.headers["Authorization"] = f"Bearer {answer.json()['token']}"
                created = http.post(
                    "/api/v1/environments/default/flows", json={"name": "gc", "definition": FLOW}
                )
                assert created.status_code == 201, created.text
                url = http.post("/api/v1/environments/default/flows/gc/callback-url").json()["value"]
            answered = asyncio.run(_fire(url, server, kill_after=400))
            assert server.wait(timeout=60) == -signal.SIGKILL
        finally:
            if server.poll() is None:
                server.kill()
            server.wait(timeout=30)
    assert len(answered) >= 400

    # Read as the next process would: SQLite recovers the committed transactions from the WAL.
    database = sqlite3.connect(str(home / "tether.db"))
    try:
        runs = {
            row[0]: (row[1], json.loads(row[2]) if row[2] else None)
            for row in database.execute("SELECT id, status, response FROM flow_runs")
        }
        segments: dict[str, list[bytes]] = {}
        for run_id, body in database.execute("SELECT run_id, body FROM run_segments ORDER BY id"):
            segments.setdefault(run_id, []).append(body)
    finally:
        database.close()
    # Each commit stored its records as one segment (store/_run_segments.py).
    actions = {
        run_id: [(r.path, r.record["status"]) for r in merged((), bodies)]
        for run_id, bodies in segments.items()
    }
    complete = [("Double", "Succeeded"), ("Plus", "Succeeded"), ("Answer", "Succeeded")]
    for run_id, n in answered.items():
        assert run_id in runs, f"run {run_id} was answered but is not in the database"
        status, response = runs[run_id]
        assert status == "Succeeded", (run_id, status)
        assert _body(response) == {"n": 2 * n + 1}
        assert actions.get(run_id) == complete, (run_id, actions.get(run_id))
        # Its one commit: one segment, deflated (1.3 KB of records as ~0.3 KB).
        assert [bytes(b)[:1] for b in segments[run_id]] == [b"d"], run_id
        assert len(segments[run_id][0]) < 600, len(segments[run_id][0])
    # Runs nobody was answered for: stored unfinished (resumed once their claim expires) or complete.
    for run_id, (status, _response) in runs.items():
        if run_id not in answered:
            assert status in ("Running", "Succeeded"), (run_id, status)
            assert status == "Running" or actions.get(run_id) == complete


def _body(response: Any) -> Any:
    return response.get("body") if isinstance(response, dict) else None
