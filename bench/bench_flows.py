"""Benchmark: runs per second of a Request-triggered flow in the embedded server (the default set-up).

Not a test. Flow: Request → Compose → Http (to a local backend) → Response, fired through its signed
callback URL by a loopback load generator (this process: httpx, ``CONCURRENCY`` callers, bounded by
a request count and ``TIME_LIMIT`` seconds); each caller waits for the Response. The server is one
``tether serve``-like subprocess on SQLite (WAL) under a temporary TETHER_HOME, with the
EmbeddedExecutor; the backend is a minimal uvicorn app in another subprocess.

Baseline, measured in the same run: the same load generator straight against the backend (what the
loopback, the client and one HTTP hop cost without Tether); the ratio says how much of the machine's
request budget one run takes. Results go to ``bench/results/flows-<timestamp>.json`` (gitignored).

Distributed figures (Celery with 1 and 2 workers, PostgreSQL, Redis) come from
``bench/bench_flows_celery.py``: pass ``--celery`` to run it after this one with the same count.

    .venv/bin/python bench/bench_flows.py [requests] [--postgres] [--sqlite-normal] [--celery]
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.conftest has the free-port and PostgreSQL helpers
RESULTS = REPO / "bench" / "results"
CONCURRENCY = 16
WARMUP = 50
TIME_LIMIT = 60.0
TARGET = 220.0  # runs/s on the 2-core reference machine (issue "Triggers and flows")
FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
    "actions": {
        "Compose": {"type": "Compose", "inputs": {"echo": "@triggerBody()"}},
        "Call": {
            "type": "Http",
            "runAfter": {"Compose": ["Succeeded"]},
            "inputs": {"method": "POST", "uri": "@parameters('backend')", "body": "@outputs('Compose')"},
        },
        "Answer": {
            "type": "Response",
            "runAfter": {"Call": ["Succeeded"]},
            "inputs": {"statusCode": 200, "body": "@body('Call')"},
        },
    },
    "parameters": {"backend": {"type": "String", "defaultValue": ""}},
}
BACKEND = """
import sys, uvicorn
async def app(scope, receive, send):
    if scope['type'] != 'http':
        return
    while (await receive()).get('more_body'):
        pass
    headers = [(b'content-type', b'application/json')]
    await send({'type': 'http.response.start', 'status': 200, 'headers': headers})
    await send({'type': 'http.response.body', 'body': b'{"ok": true}'})
uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[1]), log_level='warning', access_log=False)
"""
SERVER = """
import sys, uvicorn
from sqlalchemy import event
from tether.api import create_app
from tether.config import load_settings
from tether.store import Database
settings = load_settings()
database = Database(settings.database_url)
if sys.argv[2] != "default":  # what-if: SQLite's synchronous level (the store uses SQLite's default, FULL)
    event.listen(database.engine, "connect", lambda c, _r: c.execute("PRAGMA synchronous=" + sys.argv[2]))
uvicorn.run(create_app(settings, database), host='127.0.0.1', port=int(sys.argv[1]), log_level='warning',
            access_log=False)
"""


def _wait_http(url: str, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


async def _load(url: str, total: int, *, expect: int = 200) -> dict[str, Any]:
    """``total`` POSTs from CONCURRENCY callers (stopping at TIME_LIMIT); rate and latency percentiles."""
    import httpx

    latencies: list[float] = []
    deadline = time.perf_counter() + TIME_LIMIT
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=120.0, limits=limits) as client:

        async def caller(count: int) -> None:
            for n in range(count):
                if time.perf_counter() > deadline:
                    return
                began = time.perf_counter()
                answer = await client.post(url, json={"n": n})
                if answer.status_code != expect:
                    raise RuntimeError(f"answered {answer.status_code}: {answer.text[:200]}")
                latencies.append(time.perf_counter() - began)

        share = [total // CONCURRENCY + (1 if i < total % CONCURRENCY else 0) for i in range(CONCURRENCY)]
        started = time.perf_counter()
        await asyncio.gather(*(caller(n) for n in share))
        seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 2),
        "per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
    }


def _prepare(database_url: str, home: Path, backend_url: str) -> tuple[str, str]:
    """Migrate, bootstrap, create the flow; returns (flow id, signed callback path)."""
    from tether import services
    from tether.config import load_settings
    from tether.secrets import KeyRing
    from tether.services._flow_runtime import trigger_signing_key
    from tether.store import Database, Users, migrate

    settings = load_settings(database_url=database_url, home=home)
    with Database(database_url) as db:
        migrate(db)
        services.bootstrap(db, settings)
        with db.session() as session:
            user = Users(session).add("bench", password_hash=None, display_name="Bench", is_admin=True)
            principal = services.Principal(user_id=user.id, username=user.username, is_admin=True)
        flow = services.create_flow(
            db, principal, "default", FLOW, name="bench", parameters={"backend": backend_url}
        )
        key = trigger_signing_key(db, KeyRing.from_settings(settings))
        url = services.callback_url(db, principal, "default", "bench", key=key, public_url="")
    return flow.id, url


def _embedded(
    database_url: str, home: Path, backend_url: str, total: int, synchronous: str = "default"
) -> dict[str, Any]:
    from tests.conftest import _free_port

    _flow_id, path = _prepare(database_url, home, backend_url)
    port = _free_port()
    env = {**os.environ, "TETHER_HOME": str(home), "TETHER_DATABASE_URL": database_url}
    env.pop("TETHER_BROKER_URL", None)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), synchronous], env=env)
    try:
        _wait_http(f"http://127.0.0.1:{port}/docs")
        url = f"http://127.0.0.1:{port}{path}"
        asyncio.run(_load(url, WARMUP))
        return asyncio.run(_load(url, total))
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> int:
    from tests.conftest import PostgresServer, _free_port

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    total = int(args[0]) if args else 2000
    backend_port = _free_port()
    backend = subprocess.Popen([sys.executable, "-c", BACKEND, str(backend_port)])
    pg = PostgresServer() if "--postgres" in sys.argv else None
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "total": total,
        "concurrency": CONCURRENCY,
    }
    try:
        backend_url = f"http://127.0.0.1:{backend_port}/"
        _wait_http(backend_url)
        results["baseline: backend alone"] = asyncio.run(_load(backend_url, total))
        with tempfile.TemporaryDirectory(prefix="tether-bench-") as temp:
            home = Path(temp) / "sqlite"
            results["embedded, SQLite"] = _embedded(
                f"sqlite:///{home / 'tether.db'}", home, backend_url, total
            )
            if (
                "--sqlite-normal" in sys.argv
            ):  # WAL + synchronous=NORMAL: survives process kills, not power loss
                home = Path(temp) / "sqlite-normal"
                url = f"sqlite:///{home / 'tether.db'}"
                results["embedded, SQLite NORMAL"] = _embedded(url, home, backend_url, total, "NORMAL")
            if pg is not None:
                pg.start()
                pg.execute("CREATE DATABASE bench")
                results["embedded, PostgreSQL"] = _embedded(
                    pg.url("bench"), Path(temp) / "pg", backend_url, total
                )
    finally:
        backend.terminate()
        if pg is not None:
            pg.stop()
    baseline = results["baseline: backend alone"]["per_second"]
    print(
        f"Request → Compose → Http → Response; {total} runs, {CONCURRENCY} concurrent callers, "
        f"{os.cpu_count()} CPUs"
    )
    for label, figures in results.items():
        if isinstance(figures, dict) and "per_second" in figures:
            rate = figures["per_second"]
            print(
                f"  {label:<24} {rate:8.1f} /s  p50 {figures['p50_ms']:6.1f} ms  "
                f"p99 {figures['p99_ms']:6.1f} ms  {rate / baseline:5.2f}x baseline"
            )
    embedded = results["embedded, SQLite"]["per_second"]
    print(f"  target {TARGET:.0f} runs/s: {'met' if embedded >= TARGET else 'NOT met'} ({embedded:.0f})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"flows-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(results, indent=2))
    if "--celery" in sys.argv:  # the distributed-mode figures (Celery x1, x2), same request count
        return subprocess.call([sys.executable, str(REPO / "bench" / "bench_flows_celery.py"), str(total)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
