"""Portal benchmark: how fast do the connector list and a big connector's Definition tab answer?

Data: 1,000 connectors (the tutorial's sentiment connector under 1,000 names) and one
400-operation connector in a fresh SQLite database. No corpus connector has 400 operations (the
largest, Encodian, has 219), so its definition is doubled: every path a second time under
``/copy``, 438 operations in all.

Server: a real ``tether serve`` process on a loopback port. Client: this process, with one
HTTP keep-alive connection and a signed-in session cookie, sends requests one after another
(concurrency 1: the latency a user sees) and records each answer's time. Baseline: the same
client against nginx serving a static HTML page of similar size, in the same run.

Measured pages (after a warm-up of each; the first list request of the fresh server, which
summarises the packages of the page it shows, is reported separately as ``cold``):

- ``/e/default/connectors``                       the list (first page of 60, 1,001 connectors);
- ``/e/default/connectors/big/edit/definition``   the Definition tab of the 438-operation connector.

Run: ``.venv/bin/python bench/bench_portal.py [--requests 300]`` (needs ``nginx``). Not part of
the test suite. Prints the table and writes ``bench/results/portal-<stamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _loopback import RESULTS, free_port, require, wait_for

from tether import services
from tether.config import load_settings
from tether.definition import DEFINITION_FILE, load_package, package_from_files
from tether.store import Database, migrate

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "src" / "tether" / "examples" / "sentiment"
BIG = REPO.parent / "shared" / "corpus" / "powerplatform" / "certified-connectors" / "Encodian"
CONNECTORS = 1_000
PASSWORD = "bench-portal-password"
P95_BUDGET_MS = 150.0


def _big_package() -> tuple[object, int]:
    package = load_package(BIG)
    definition = json.loads(package.files[DEFINITION_FILE])
    paths = definition["paths"]
    for path, item in list(paths.items()):
        paths[f"/copy{path}"] = json.loads(
            json.dumps(item).replace('"operationId": "', '"operationId": "Copy')
        )
    count = sum(1 for item in paths.values() for m in item if m in ("get", "post", "put", "delete", "patch"))
    files = {**package.files, DEFINITION_FILE: json.dumps(definition, indent=2).encode()}
    files.pop("settings.json", None)
    return package_from_files(files, source="big"), count


def populate(home: Path) -> tuple[str, int]:
    """The database: 1,000 small connectors and the big one; returns a session token and the op count."""
    settings = load_settings(home=home, admin_password=PASSWORD)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    admin = services.authenticate_password(database, "admin", PASSWORD)
    files = dict(load_package(EXAMPLE).files)
    files.pop("settings.json", None)
    small = package_from_files(files, source="sentiment")
    started = time.perf_counter()
    for index in range(CONNECTORS):
        services.create_connector(database, admin, "default", small, name=f"sentiment-{index:04d}")
    big, operations = _big_package()
    services.create_connector(database, admin, "default", big, name="big")  # type: ignore[arg-type]
    print(f"populated {CONNECTORS + 1} connectors in {time.perf_counter() - started:.1f} s")
    token, _ = services.create_token(database, admin, "portal sign-in")
    database.close()
    return token, operations


def static_nginx(folder: Path, size: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    (folder / "www").mkdir(parents=True)
    (folder / "www" / "index.html").write_text("<!doctype html><title>static</title>" + "x" * size)
    config = folder / "nginx.conf"
    config.write_text(f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
    server {{ listen 127.0.0.1:{port}; root {folder}/www; }}
}}
""")
    # nginx's workers run as an unprivileged user: let them read the page under the private temp dir.
    for path in (folder.parent, folder, folder / "www", folder / "www" / "index.html"):
        path.chmod(0o755)
    process = subprocess.Popen(["nginx", "-c", str(config), "-g", "daemon off;"], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/index.html"
    try:
        wait_for(url)
    except RuntimeError:
        process.terminate()
        process.wait(timeout=10)
        raise
    return process, url


def measure(client: httpx.Client, url: str, requests: int) -> dict[str, float]:
    """Sequential GETs (bounded in count and in time): p50/p95/p99 and the mean, in milliseconds."""
    times = []
    deadline = time.monotonic() + 120
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{url}: HTTP {answer.status_code}")
        if time.monotonic() > deadline:
            break
    times.sort()
    return {
        "requests": len(times),
        "p50_ms": statistics.median(times),
        "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
        "mean_ms": statistics.fmean(times),
        "bytes": len(answer.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per page (default 300)")
    args = parser.parse_args()
    require("nginx")
    if not BIG.exists():
        sys.exit(f"{BIG} is absent: put the project's shared/ folder beside the repository")
    folder = Path(tempfile.mkdtemp(prefix="tether-bench-portal-"))
    token, operations = populate(folder / "home")
    port = free_port()
    env = {**os.environ, "TETHER_HOME": str(folder / "home"), "TETHER_ADMIN_PASSWORD": PASSWORD}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "tether"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    nginx = None
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/api/v1/health", timeout=60)
        pages = {
            "connector list": f"{base}/e/default/connectors",
            f"definition tab ({operations} ops)": f"{base}/e/default/connectors/big/edit/definition",
        }
        rows: dict[str, dict[str, float]] = {}
        with httpx.Client(cookies={"tether_session": token}, timeout=60) as client:
            started = time.perf_counter()
            client.get(pages["connector list"]).raise_for_status()
            cold_list = (time.perf_counter() - started) * 1000
            for name, url in pages.items():
                measure(client, url, 10)  # warm-up: caches, lazy imports, SQLite pages
                rows[name] = measure(client, url, args.requests)
            nginx, static_url = static_nginx(folder / "nginx", rows["connector list"]["bytes"])
            with httpx.Client(timeout=60) as plain:
                measure(plain, static_url, 10)
                rows["nginx static page"] = measure(plain, static_url, args.requests)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)

    print(f"\n{'page':<32} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'KB':>7}")
    for name, row in rows.items():
        print(
            f"{name:<32} {row['requests']:>5.0f} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} "
            f"{row['p99_ms']:>8.2f} {row['bytes'] / 1000:>7.1f}"
        )
    print(f"\ncold first list request (a fresh server, {CONNECTORS + 1} connectors): {cold_list:.0f} ms")
    verdict = all(row["p95_ms"] < P95_BUDGET_MS for name, row in rows.items() if name != "nginx static page")
    print(f"p95 < {P95_BUDGET_MS:.0f} ms on both pages: {'yes' if verdict else 'NO'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"portal-{stamp}.json"
    document = {
        "stamp": stamp,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "rows": rows,
        "cold_list_ms": cold_list,
        "budget_p95_ms": P95_BUDGET_MS,
        "within_budget": verdict,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written {path}")


if __name__ == "__main__":
    main()
