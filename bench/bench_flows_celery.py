"""Benchmark: runs per second of a Request-triggered flow, embedded vs Celery with 1 and 2 workers.

Not a test. The flow is Request → Compose → Http (to a local backend) → Response, fired through
its signed callback URL, each caller waiting for the Response. Every mode uses the same
PostgreSQL, backend and load, in one run of this script:

- ``embedded``: one ``tether serve`` process advancing runs itself (the EmbeddedExecutor);
- ``celery xN``: the same server submitting to N ``tether worker`` processes (prefork, 4 each)
  over Redis; each worker process is what a deployment scales by.

The server and the workers are subprocesses; this process is only the load generator (httpx,
``CONCURRENCY`` callers). Reports the figures and the ratios to embedded.

    .venv/bin/python bench/bench_flows_celery.py [requests]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.* (the PostgreSQL and Redis helpers) when run as a script

CONCURRENCY = 16
WARMUP = 30
WORKER_CONCURRENCY = 4
FLOW = {
    "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/"
    "workflowdefinition.json#",
    "contentVersion": "1.0.0.0",
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
    "actions": {
        "Compose": {"type": "Compose", "inputs": {"echo": "@triggerBody()"}},
        "Call": {
            "type": "Http",
            "inputs": {"method": "POST", "uri": "@parameters('backend')", "body": "@outputs('Compose')"},
            "runAfter": {"Compose": ["Succeeded"]},
        },
        "Answer": {
            "type": "Response",
            "inputs": {"statusCode": 200, "body": "@body('Call')"},
            "runAfter": {"Call": ["Succeeded"]},
        },
    },
    "parameters": {"backend": {"type": "String", "defaultValue": ""}},
}
SERVER_SCRIPT = """
import sys, uvicorn
from tether.api import create_app
from tether.config import load_settings
from tether.executors import distributed_flow_runtime
from tether.store import Database
settings = load_settings()
database = Database(settings.database_url)
app = create_app(settings, database)
if settings.broker_url:
    app.state.flow_runtime = distributed_flow_runtime(database, settings, scheduler=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _wait_http(url: str, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def _backend(port: int) -> subprocess.Popen[bytes]:
    """A small uvicorn app answering JSON: the API the flow's Http action calls."""
    script = (
        "import uvicorn\n"
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n        return\n"
        "    while (await receive()).get('more_body'):\n        pass\n"
        "    await send({'type': 'http.response.start', 'status': 200,"
        " 'headers': [(b'content-type', b'application/json')]})\n"
        "    await send({'type': 'http.response.body', 'body': b'{\"ok\": true}'})\n"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')\n"
    )
    return subprocess.Popen([sys.executable, "-c", script])


async def _load(url: str, total: int) -> float:
    """Fire ``total`` requests with CONCURRENCY callers; returns runs per second."""
    import httpx

    async with httpx.AsyncClient(timeout=120.0, limits=httpx.Limits(max_connections=CONCURRENCY)) as client:

        async def caller(count: int) -> None:
            for n in range(count):
                answer = await client.post(url, json={"n": n})
                if answer.status_code != 200:
                    raise RuntimeError(f"run answered {answer.status_code}: {answer.text[:200]}")

        share = [total // CONCURRENCY + (1 if i < total % CONCURRENCY else 0) for i in range(CONCURRENCY)]
        started = time.perf_counter()
        await asyncio.gather(*(caller(n) for n in share))
        return total / (time.perf_counter() - started)


def _measure(
    workers: int, base_env: dict[str, str], pg_url: str, backend_url: str, total: int, home: Path
) -> float:
    import httpx
    from tests.conftest import _free_port

    from tether import services
    from tether.config import load_settings
    from tether.store import Database, Users, migrate

    port = _free_port()
    server_url = f"http://127.0.0.1:{port}"
    env = {
        **base_env,
        "TETHER_DATABASE_URL": pg_url,
        "TETHER_HOME": str(home),
        "TETHER_PUBLIC_URL": server_url,
    }
    if workers == 0:
        env.pop("TETHER_BROKER_URL", None)
    settings = load_settings(database_url=pg_url, home=home)
    db = Database(pg_url)
    migrate(db)
    services.bootstrap(db, settings)
    with db.session() as session:
        user = Users(session).add("bench", password_hash=None, display_name="Bench", is_admin=True)
        principal = services.Principal(user_id=user.id, username=user.username, is_admin=True)
    services.create_flow(db, principal, "default", FLOW, name="bench", parameters={"backend": backend_url})
    token, _info = services.create_token(db, principal, "bench")
    db.close()
    processes = [subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(port)], env=env)]
    try:
        for index in range(workers):
            command = [
                *[sys.executable, "-c", "from tether.cli import main; main()", "worker", "--pool", "prefork"],
                *[
                    "--concurrency",
                    str(WORKER_CONCURRENCY),
                    "--name",
                    f"bench{index}@%h",
                    "--loglevel",
                    "WARNING",
                ],
            ]
            processes.append(
                subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        _wait_http(f"{server_url}/docs")
        answer = httpx.post(
            f"{server_url}/api/v1/environments/default/flows/bench/callback-url",
            headers={"Authorization": f"Bearer {token}"},
        )
        answer.raise_for_status()
        url = answer.json()["value"]
        asyncio.run(_load(url, WARMUP))  # also waits for the workers to be up
        return asyncio.run(_load(url, total))
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> int:
    from tests.conftest import PostgresServer, _free_port
    from tests.executors.conftest import RedisServer

    total = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    pg, redis_server = PostgresServer(), RedisServer()
    backend_port = _free_port()
    backend = _backend(backend_port)
    try:
        pg.start()
        redis_server.start()
        _wait_http(f"http://127.0.0.1:{backend_port}/")
        base_env = {
            **os.environ,
            "TETHER_BROKER_URL": redis_server.url(),
            "TETHER_BROKER_VISIBILITY_TIMEOUT": "60",
        }
        results: dict[str, float] = {}
        with tempfile.TemporaryDirectory(prefix="tether-bench-") as home:
            for label, workers in (("embedded", 0), ("celery x1", 1), ("celery x2", 2)):
                name = f"bench_{label.replace(' ', '_')}"
                pg.execute(f"CREATE DATABASE {name}")
                results[label] = _measure(
                    workers,
                    base_env,
                    pg.url(name),
                    f"http://127.0.0.1:{backend_port}/",
                    total,
                    Path(home) / name,
                )
        print(
            f"Request → Compose → Http → Response; {total} runs, {CONCURRENCY} concurrent callers, "
            f"PostgreSQL; Celery workers prefork x{WORKER_CONCURRENCY}"
        )
        for label, rate in results.items():
            print(f"  {label:<10} {rate:8.1f} runs/s   {rate / results['embedded']:5.2f}x embedded")
        print(f"  celery x2 / celery x1: {results['celery x2'] / results['celery x1']:.2f}x")
        return 0
    finally:
        backend.terminate()
        redis_server.stop()
        pg.stop()


if __name__ == "__main__":
    raise SystemExit(main())
