"""A real private network for the gateway tests, built with Linux network namespaces.

    root namespace (Tether server)                  namespace tg-onprem-<random>
    10.231.N.1/30 ─── veth pair ─────────────────── 10.231.N.2/30   agent (tether gateway run)
    route 10.232.N.0/24 unreachable                 10.232.N.2/32   httpbin (gunicorn), the private API

The server listens on its veth address only; the agent's one route is to the server; the API
sits on an address the root namespace has an explicit "unreachable" route for. Every namespace,
link, route and process made here is removed in the fixture's finalizer. Needs root (CI runs as
root); without ``ip netns`` the tests skip saying why, and fail under CI.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.executors.conftest import REDIS_SERVER, RedisServer
from tether import services
from tether.api import create_app, free_port, serve_in_thread
from tether.config import load_settings
from tether.store import Database, migrate

ADMIN_PASSWORD = "correct horse battery staple"
RECOVERY_KEY = "a long recovery passphrase for the test cluster"
TETHER = str(Path(sys.executable).with_name("tether"))
ENV = "/api/v1/environments/default"
UPSTREAM_DEADLINE = 4.0


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def wait_for(condition, what: str, timeout: float = 30.0, every: float = 0.05):
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@dataclass
class OnPrem:
    """The private network: namespace name, addresses, and the processes running in it."""

    namespace: str
    server_ip: str
    agent_ip: str
    api_ip: str
    api_port: int
    folder: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://{self.api_ip}:{self.api_port}"

    def popen(self, *command: str, log: str) -> subprocess.Popen[bytes]:
        with (self.folder / log).open("wb") as handle:  # the child keeps its own descriptor
            process = subprocess.Popen(
                ["ip", "netns", "exec", self.namespace, *command], stdout=handle, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        return process

    def run(self, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.namespace, *command],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **(env or {})},
        )

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _netns_possible() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 ('ip') is not installed: apt-get install -y iproute2"
    return None


@pytest.fixture(scope="session")
def onprem() -> Iterator[OnPrem]:
    why = _netns_possible()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    tag = secrets.token_hex(3)
    n = int(tag[:2], 16) % 250 + 1
    namespace, host_if, ns_if = f"tg-onprem-{tag}", f"tgh{tag}", f"tgn{tag}"
    folder = Path(subprocess.check_output(["mktemp", "-d", "/tmp/tether-onprem-XXXXXX"], text=True).strip())
    net = OnPrem(namespace, f"10.231.{n}.1", f"10.231.{n}.2", f"10.232.{n}.2", 8080, folder)
    unreachable = f"10.232.{n}.0/24"
    try:
        _ip("netns", "add", namespace)
        _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _ip("link", "set", ns_if, "netns", namespace)
        _ip("addr", "add", f"{net.server_ip}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("-n", namespace, "addr", "add", f"{net.agent_ip}/30", "dev", ns_if)
        _ip("-n", namespace, "link", "set", ns_if, "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        _ip("-n", namespace, "addr", "add", f"{net.api_ip}/32", "dev", "lo")
        # The root namespace has a default route: say explicitly that the private network is not reachable.
        _ip("route", "add", "unreachable", unreachable)
        command = [
            sys.executable, "-m", "gunicorn", "httpbin:app", "-b", f"{net.api_ip}:{net.api_port}",
            "-k", "gthread", "--threads", "8", "--log-level", "warning",
        ]  # fmt: skip
        httpbin = net.popen(*command, log="httpbin.log")
        probe = f"import httpx; httpx.get('{net.api_url}/get', timeout=2).raise_for_status()"
        wait_for(
            lambda: httpbin.poll() is None and net.run(sys.executable, "-c", probe).returncode == 0,
            "httpbin inside the namespace",
            timeout=60,
            every=0.3,
        )
        yield net
    finally:
        for process in reversed(net.processes):
            net.stop(process)
        _ip("route", "del", "unreachable", unreachable, check=False)
        _ip("link", "del", host_if, check=False)
        _ip("netns", "del", namespace, check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def gateway_redis() -> Iterator[RedisServer]:
    """A Redis server for the distributed-mode test (the executors' fixture lives in their folder)."""
    if not os.path.exists(REDIS_SERVER):
        if os.environ.get("CI"):
            pytest.fail("redis-server not found (apt-get install -y redis-server)")
        pytest.skip("redis-server not found (apt-get install -y redis-server)")
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@dataclass
class Server:
    url: str
    db: Database
    headers: dict[str, str]
    app: object

    def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        return httpx.request(method, self.url + path, headers=self.headers, timeout=60, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def server(onprem: OnPrem, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Tether in the root namespace, listening on its veth address only."""
    home = tmp_path_factory.mktemp("gateway-home")
    url = f"sqlite:///{home / 'tether.db'}"
    database = Database(url)
    migrate(database)
    # A short deadline, so the test of a call outliving it does not wait long (the HA calls take ~1 s).
    settings = load_settings(
        home=home, database_url=url, admin_password=ADMIN_PASSWORD, upstream_deadline=UPSTREAM_DEADLINE
    )
    services.bootstrap(database, settings)
    app = create_app(settings, database)
    with serve_in_thread(app, host=onprem.server_ip, port=free_port(onprem.server_ip)) as base:
        token = httpx.post(
            f"{base}/api/v1/tokens", json={"name": "gw"}, auth=("admin", ADMIN_PASSWORD), timeout=30
        ).json()["token"]
        yield Server(base, database, {"Authorization": f"Bearer {token}"}, app)
    database.close()


@dataclass
class Cluster:
    name: str
    configs: list[Path]


def register_agent(onprem: OnPrem, server: Server, cluster: str, token: str, name: str) -> Path:
    """``tether gateway register`` inside the namespace (the real CLI); the config it wrote."""
    config = onprem.folder / f"{name}.json"
    done = onprem.run(
        TETHER, "gateway", "register", "--server", server.url, "--registration-token", token,
        "--cluster", cluster, "--recovery-key", RECOVERY_KEY, "--name", name, "--config", str(config),
        env={"TETHER_HOME": str(onprem.folder / "agent-home")},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return config


def run_agent(onprem: OnPrem, config: Path, *allow: str) -> subprocess.Popen[bytes]:
    flags = [part for entry in allow for part in ("--allow", entry)]
    return onprem.popen(TETHER, "gateway", "run", "--config", str(config), *flags, log=f"{config.stem}.log")


def online(server: Server, cluster: str) -> list[dict[str, object]]:
    answer = server.api("GET", f"{ENV}/gateways/{cluster}/members")
    assert answer.status_code == 200, answer.text
    return [m for m in answer.json()["items"] if m["status"] == "online"]


def httpbin_package(onprem: OnPrem, name: str, host: str | None = None) -> bytes:
    """A small connector for httpbin in the private network: Basic auth, through a gateway parameter."""
    definition = {
        "swagger": "2.0",
        "info": {"title": name, "version": "1.0"},
        "host": host or f"{onprem.api_ip}:{onprem.api_port}",
        "basePath": "/",
        "schemes": ["http"],
        "securityDefinitions": {"basic": {"type": "basic"}},
        "security": [{"basic": []}],
        "paths": {
            "/basic-auth/{user}/{passwd}": {
                "get": {
                    "operationId": "CheckBasic",
                    "parameters": [
                        {"name": "user", "in": "path", "required": True, "type": "string"},
                        {"name": "passwd", "in": "path", "required": True, "type": "string"},
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/headers": {"get": {"operationId": "Headers", "responses": {"200": {"description": "ok"}}}},
            "/anything": {
                "post": {
                    "operationId": "Anything",
                    "parameters": [{"name": "body", "in": "body", "schema": {"type": "object"}}],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/delay/{n}": {
                "get": {
                    "operationId": "Delay",
                    "parameters": [{"name": "n", "in": "path", "required": True, "type": "integer"}],
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }
    properties = {
        "properties": {
            "connectionParameters": {
                "username": {"type": "string", "uiDefinition": {"displayName": "User"}},
                "password": {"type": "securestring", "uiDefinition": {"displayName": "Password"}},
                "gateway": {"type": "gatewaySetting", "uiDefinition": {"displayName": "Gateway"}},
            },
            "iconBrandColor": "#007ee5",
        }
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("apiDefinition.swagger.json", json.dumps(definition))
        archive.writestr("apiProperties.json", json.dumps(properties))
    return buffer.getvalue()


def upload_connector(server: Server, onprem: OnPrem, *, host: str | None = None) -> str:
    """A connector for the private httpbin (its name)."""
    name = f"private-{secrets.token_hex(3)}"
    files = {"package": (f"{name}.zip", httpbin_package(onprem, name, host), "application/zip")}
    connector = server.api("POST", f"{ENV}/connectors", files=files, data={"name": name})
    assert connector.status_code == 201, connector.text
    return name


def gateway_connection(
    server: Server,
    onprem: OnPrem,
    cluster: str,
    password: str,
    *,
    host: str | None = None,
    parameters: dict[str, str] | None = None,
) -> str:
    """A connector for the private httpbin and a connection to it through ``cluster``; its id."""
    connector = upload_connector(server, onprem, host=host)
    values = parameters or {"username": "alice", "password": password, "gateway": cluster}
    connection = server.api("POST", f"{ENV}/connections", json={"connector": connector, "parameters": values})
    assert connection.status_code == 201, connection.text
    return str(connection.json()["id"])
