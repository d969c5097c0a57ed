"""Hostile custom code against a real Tether server (uvicorn over HTTP, SQLite in TETHER_HOME).

Every attack script first switches the Python-level guard off (the allow-list and the audit
hook live in objects a script can reach) and proves it did; what must hold then is the
operating system's wall: bubblewrap namespaces, the unprivileged uid, the read-only minimal
file system, rlimits and seccomp, and the server's JSON-only protocol. Each call must answer
with a clear error (or contained output), and the server must stay healthy.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import shutil
import struct
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services._invoke_kit import echo_app, echo_package
from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.runtime.script import (
    ScriptLimits,
    ScriptPool,
    ScriptRequest,
    ScriptResponse,
    ScriptSandboxUnavailable,
)
from tether.store import Database

ADMIN_PASSWORD = "correct horse battery staple"
ENV = "/api/v1/environments/default"
LIMITS = ScriptLimits(timeout=4.0, memory_bytes=128 * 1024 * 1024, per_owner=2, queue_timeout=2.0)
SCRIPT_DIR = Path(__file__).parents[2] / "src" / "tether" / "runtime" / "script"
_names = count()

# Switches the Python-level guard off, as the attacker of issue 10 did: the real __import__
# from ScriptBase's module, then the audit hook's sets and its path check emptied.
UNGUARD = """
_builtins = ScriptBase.__init__.__globals__["__builtins__"]
_imp = _builtins["__import__"] if isinstance(_builtins, dict) else _builtins.__import__
os = _imp("os")
sys = _imp("sys")
_types = _imp("types")
JSON = {"Content-Type": "application/json"}
_guard = sys.modules["tether.runtime.script._sandbox"]
_guard._FORBIDDEN_EVENTS = ()
_guard._FORBIDDEN_EXACT = frozenset()
_stdlib = _imp("sysconfig").get_paths()["stdlib"]
_guard.os = _types.SimpleNamespace(
    path=_types.SimpleNamespace(realpath=lambda p: _stdlib + "/x"), fsdecode=lambda p: p,
    O_WRONLY=0, O_RDWR=0, O_CREAT=0, O_APPEND=0, O_TRUNC=0,
)
"""


def attack(*lines: str) -> str:
    """A script that unguards itself, then runs ``lines`` as the body of ``execute``."""
    body = "".join(f"        {line}\n" for line in lines)
    return UNGUARD + "\nclass Script(ScriptBase):\n    async def execute(self):\n" + body


@dataclass
class Tether:
    url: str
    home: Path
    echo_host: str
    pool: ScriptPool
    http: httpx.Client
    alice: dict[str, str]
    bob: dict[str, str]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def deploy(self, who: dict[str, str], script: str, key: str = "alice-api-key") -> tuple[str, str]:
        """A connector with ``script`` and a connection to it, both ``who``'s: their ids."""
        package = echo_package(self.echo_host, "header", script=script, title=f"Sandbox {next(_names)}")
        files = {"package": ("echo.zip", package.to_zip(), "application/zip")}
        connector = self.http.post(f"{ENV}/connectors", files=files, headers=who)
        assert connector.status_code == 201, connector.text
        return connector.json()["id"], self.connect(who, connector.json()["id"], key)

    def connect(self, who: dict[str, str], connector: str, key: str) -> str:
        body = {"connector": connector, "parameters": {"api_key": key}}
        connection = self.http.post(f"{ENV}/connections", json=body, headers=who)
        assert connection.status_code == 201, connection.text
        return str(connection.json()["id"])

    def invoke(self, who: dict[str, str], connection: str, item: str | None = None) -> httpx.Response:
        if item is None:
            return self.http.post(
                f"{ENV}/connections/{connection}/invoke/GetLatest", headers=who, timeout=120
            )
        url = f"{ENV}/connections/{connection}/invoke/GetItem"
        return self.http.post(url, json={"item": item}, headers=who, timeout=120)

    def run(self, script: str, who: dict[str, str] | None = None) -> httpx.Response:
        who = who or self.alice
        _connector, connection = self.deploy(who, script)
        return self.invoke(who, connection)

    def healthy(self) -> bool:
        return self.http.get("/api/v1/health").status_code == 200


def _user(http: httpx.Client, admin: dict[str, str], name: str) -> dict[str, str]:
    password = f"{name}-password-1"
    created = http.post("/api/v1/users", json={"username": name, "password": password}, headers=admin)
    assert created.status_code == 201, created.text
    assert (
        http.put(f"{ENV}/members", json={"username": name, "role": "maker"}, headers=admin).status_code == 200
    )
    return {"Authorization": f"Bearer {_token(http, name, password)}"}


def _token(http: httpx.Client, name: str, password: str) -> str:
    answer = http.post("/api/v1/tokens", json={"name": "test"}, auth=(name, password))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


@pytest.fixture(scope="module")
def tether(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[Tether]:
    home = tmp_path_factory.mktemp("sandbox") / "home"
    home.mkdir()
    shutil.copy(_sqlite_template, home / "tether.db")
    settings = load_settings(home=home, admin_password=ADMIN_PASSWORD)
    database = Database(settings.database_url)
    services.bootstrap(database, settings)
    app = create_app(settings, database)
    pool = ScriptPool(4, limits=LIMITS)
    app.state.connector_runner = services.ConnectorRunner(scripts=pool, rate_limit=None)
    app.state.connector_runner_owned = True  # the app closes the runtime; the pool is ours
    try:
        with (
            serve_in_thread(echo_app()) as echo_url,  # type: ignore[arg-type]
            serve_in_thread(app) as url,
            httpx.Client(base_url=url, timeout=60) as http,
        ):
            admin = {"Authorization": f"Bearer {_token(http, 'admin', ADMIN_PASSWORD)}"}
            allow = http.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}, headers=admin)
            assert allow.status_code == 200, allow.text
            alice, bob = _user(http, admin, "alice"), _user(http, admin, "bob")
            yield Tether(url, home, echo_url.removeprefix("http://"), pool, http, alice, bob)
    finally:
        asyncio.run(pool.aclose())
        database.close()


def _problem(answer: httpx.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["type"].endswith("/" + code), body
    return str(body["detail"])


# -- the guard really is off, and what is left is the OS sandbox -------------------------------------


def test_the_unguarded_script_runs_as_nobody_with_seccomp_and_no_environment(tether: Tether) -> None:
    script = attack(
        "status = open('/proc/self/status').read()",
        "facts = {'uid': os.getuid(), 'env': dict(os.environ), 'status': status,",
        "         'hostname': os.uname().nodename, 'cwd': os.getcwd()}",
        "return ScriptResponse(200, JSON, _imp('json').dumps(facts).encode())",
    )
    answer = tether.run(script)
    assert answer.status_code == 200, answer.text  # open() of a non-library path: the guard is off
    facts = answer.json()["body"]
    assert facts["uid"] == 65534 and facts["hostname"] == "tether-script"
    assert set(facts["env"]) <= {"PWD", "LC_CTYPE"}, facts[
        "env"
    ]  # bwrap's and Python's own, nothing inherited
    assert facts["cwd"] == "/tmp"
    fields = dict(line.split(":\t", 1) for line in facts["status"].splitlines() if ":\t" in line)
    assert fields["NoNewPrivs"].strip() == "1" and fields["Seccomp"].strip() == "2"
    assert fields["CapEff"].strip() == "0000000000000000"
    assert tether.healthy()


# -- the pipe to the server: JSON frames only, checked ------------------------------------------------

# The worker's socket to the server, reached through the closure behind context.send.
PIPE = (
    "sock = next(c.cell_contents for c in self.context._send.__closure__"
    " if type(c.cell_contents).__name__ == 'socket')"
)


def _frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        pytest.param("pickle", "not JSON", id="pickle"),
        pytest.param(repr(_frame(b"\xff\xfe not json at all")), "not JSON", id="not-json"),
        pytest.param(repr(struct.pack(">I", 2**31) + b"{}"), "over the", id="oversized"),
        pytest.param(
            repr(
                _frame(b'{"type":"done","response":{"status_code":200,"headers":{},"content":"x","more":1}}')
            ),
            "expected fields",
            id="extra-field",
        ),
        pytest.param(
            repr(_frame(b'{"type":"exec","command":"id"}')), "unknown message type", id="unknown-type"
        ),
        pytest.param(
            repr(_frame(json.dumps({"type": "log", "level": 20, "message": "x" * 100_000}).encode())),
            "log message",
            id="huge-log",
        ),
        pytest.param(
            repr(_frame(b'{"type":"done","response":{"status_code":99999,"headers":{},"content":""}}')),
            "status_code",
            id="bad-status",
        ),
    ],
)
def test_a_hostile_message_on_the_pipe_stops_the_worker_not_the_server(
    tether: Tether, tmp_path: Path, frame: str, why: str
) -> None:
    marker = tmp_path / "unpickled"
    if frame == "pickle":  # the exploit of issue 10: a pickle that runs a command when loaded
        pickle = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
        frame = repr(struct.pack("!i", len(pickle)) + pickle)
    answer = tether.run(
        attack(PIPE, f"sock.sendall({frame})", "return await self.context.send(self.context.request)")
    )
    detail = _problem(answer, 502, "script-protocol")
    assert "protocol does not allow" in detail and why in detail and "it was stopped" in detail
    assert not marker.exists()
    assert tether.healthy()
    again = tether.run("class Script(ScriptBase):\n    pass\n")  # a fresh worker serves the next call
    assert again.status_code == 200, again.text


def test_the_server_side_never_imports_a_pickle_based_channel() -> None:
    unsafe = {"pickle", "_pickle", "multiprocessing", "marshal", "shelve", "copyreg", "dill", "cloudpickle"}
    for path in SCRIPT_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in unsafe, f"{path.name} imports {name}"
    import tether.runtime.script._pool as pool_module

    assert not any(type(v).__module__.startswith("multiprocessing") for v in vars(pool_module).values())


# -- the file system: nothing of the server's ------------------------------------------------------------


@pytest.mark.parametrize("target", ["master.key", "tether.db", "/etc/shadow", "/etc/passwd", "cwd"])
def test_an_unguarded_script_cannot_read_the_servers_files(tether: Tether, target: str) -> None:
    if target in ("master.key", "tether.db"):
        path = tether.home / target
    elif target == "cwd":
        path = Path.cwd() / "pyproject.toml"
    else:
        path = Path(target)
    assert path.exists(), f"{path} must exist on the host for this test to mean anything"
    answer = tether.run(attack(f"return ScriptResponse(200, {{}}, open({str(path)!r}, 'rb').read())"))
    detail = _problem(answer, 502, "script-failed")
    assert "FileNotFoundError" in detail or "PermissionError" in detail, detail
    if path.name == "master.key":
        assert path.read_bytes().strip().decode(errors="ignore")[:16] not in answer.text
    assert tether.healthy()


def test_root_holds_only_the_interpreter(tether: Tether) -> None:
    answer = tether.run(
        attack("return ScriptResponse(200, JSON, _imp('json').dumps(os.listdir('/root')).encode())")
    )
    assert answer.status_code == 200, answer.text
    inside = set(answer.json()["body"])
    prefix = Path(os.path.realpath(sys.base_prefix))
    allowed = {prefix.relative_to("/root").parts[0]} if prefix.is_relative_to("/root") else set()
    assert inside <= allowed, inside


def test_the_file_system_is_read_only(tether: Tether) -> None:
    worker_module = "/opt/tether-script/tether/runtime/script/_worker.py"
    answer = tether.run(attack(f"os.open({worker_module!r}, os.O_WRONLY | os.O_TRUNC)"))
    detail = _problem(answer, 502, "script-failed")
    assert "Read-only file system" in detail, detail


# -- the network: none ---------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["tether", "echo"])
def test_an_unguarded_script_cannot_open_a_socket(tether: Tether, which: str) -> None:
    port = tether.port if which == "tether" else int(tether.echo_host.rsplit(":", 1)[1])
    answer = tether.run(attack(f"_imp('socket').create_connection(('127.0.0.1', {port}), timeout=2)"))
    detail = _problem(answer, 502, "script-failed")
    assert "PermissionError" in detail, detail
    assert tether.healthy()


# -- processes: no fork, no exec -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(["os.fork()"], "PermissionError", id="fork"),
        pytest.param(
            [
                "children = 0",
                "try:",
                "    while True:",
                "        if os.fork() == 0:",
                "            os._exit(0)",
                "        children += 1",
                "except OSError as exc:",
                "    raise RuntimeError(f'{children} children, then {type(exc).__name__}')",
            ],
            "0 children, then PermissionError",
            id="fork-bomb",
        ),
        # 127 << 8: the C library could not start the shell (its posix_spawn was refused).
        pytest.param(
            ["raise RuntimeError(f\"os.system returned {os.system('id')}\")"], "returned 32512", id="system"
        ),
        pytest.param(
            ["os.posix_spawn(sys.executable, [sys.executable], {})"], "PermissionError", id="posix-spawn"
        ),
        pytest.param(["_imp('subprocess').run(['id'])"], "PermissionError", id="subprocess"),
        pytest.param(
            ["os.execv(sys.executable, [sys.executable, '-c', 'pass'])"], "PermissionError", id="exec"
        ),
    ],
)
def test_an_unguarded_script_cannot_start_programs(tether: Tether, lines: list[str], expected: str) -> None:
    detail = _problem(tether.run(attack(*lines)), 502, "script-failed")
    assert expected in detail, detail
    assert tether.healthy()


# -- resources: memory, threads, CPU ----------------------------------------------------------------------


def test_memory_is_capped_even_after_trying_to_raise_the_limit(tether: Tether) -> None:
    script = attack(
        "resource = _imp('resource')",
        "try:",
        "    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))",
        "except (ValueError, OSError):",
        "    pass",
        "hog = []",
        "while True:",
        "    hog.append(bytearray(32 * 1024 * 1024))",
    )
    detail = _problem(tether.run(script), 502, "script-memory")
    assert "out of memory" in detail
    assert tether.healthy()


def test_the_private_tmp_cannot_fill_the_disk(tether: Tether) -> None:
    script = attack(
        "fd = os.open('/tmp/fill', os.O_WRONLY | os.O_CREAT)",
        "for _ in range(64):",
        "    os.write(fd, b'x' * 1024 * 1024)",
    )
    detail = _problem(tether.run(script), 502, "script-failed")
    assert "File too large" in detail, detail
    assert tether.healthy()


def test_a_thread_bomb_hits_the_process_limit(tether: Tether) -> None:
    script = attack(
        "_thread = _imp('_thread')",
        "lock = _thread.allocate_lock()",
        "lock.acquire()",
        "for n in range(100000):",
        "    _thread.start_new_thread(lock.acquire, ())",
    )
    detail = _problem(tether.run(script), 502, "script-failed")
    assert "can't start new thread" in detail, detail
    assert tether.healthy()


def test_a_cpu_loop_that_ignores_the_soft_timer_is_killed(tether: Tether) -> None:
    script = attack(
        "signal = _imp('signal')", "signal.signal(signal.SIGALRM, signal.SIG_IGN)", "while True:", "    pass"
    )
    started = time.monotonic()
    detail = _problem(tether.run(script), 504, "script-timeout")
    assert "it was stopped" in detail
    assert time.monotonic() - started < LIMITS.timeout + 10
    assert tether.healthy()


# -- workers are never shared between owners ---------------------------------------------------------------

# Plants a hook in its worker: every later ScriptContext made there records the request it carries.
PLANT = (
    UNGUARD
    + """
_base = ScriptBase.__init__.__globals__
if "_seen" not in _base:
    _base["_seen"] = []
    _original = _base["ScriptContext"].__init__

    def _spy(self, **kwargs):
        _base["_seen"].append({"url": kwargs["request"].url, "headers": dict(kwargs["request"].headers)})
        _original(self, **kwargs)

    _base["ScriptContext"].__init__ = _spy


class Script(ScriptBase):
    async def execute(self):
        return ScriptResponse(200, JSON, _imp("json").dumps(_base["_seen"]).encode())
"""
)
INNOCENT = (
    "class Script(ScriptBase):\n    async def execute(self):\n"
    "        return await self.context.send(self.context.request)\n"
)


def test_a_hook_planted_by_one_owner_never_sees_another_owners_calls(tether: Tether) -> None:
    alice_connector, alice_connection = tether.deploy(tether.alice, PLANT)
    first = tether.invoke(tether.alice, alice_connection, item="alice-item-1")
    assert first.status_code == 200, first.text

    # Bob calls his own connector, and alice's (shared with him, through his own connection and key).
    share = {"grantee": "user:bob", "permission": "use"}
    shared = tether.http.put(f"{ENV}/connectors/{alice_connector}/access", json=share, headers=tether.alice)
    assert shared.status_code == 200, shared.text
    _bob_connector, bob_own = tether.deploy(tether.bob, INNOCENT, key="bob-secret-own")
    bob_on_alices = tether.connect(tether.bob, alice_connector, "bob-secret-on-alices")
    for connection in (bob_own, bob_on_alices):
        answer = tether.invoke(tether.bob, connection, item="bob-private-item")
        assert answer.status_code == 200, answer.text

    second = tether.invoke(tether.alice, alice_connection, item="alice-item-2")
    assert second.status_code == 200, second.text
    seen = json.dumps(second.json()["body"])
    assert "alice-item-1" in seen  # the hook works: alice's worker was reused for alice's calls
    assert "bob-private-item" not in seen
    assert tether.healthy()


def test_one_owners_looping_scripts_do_not_starve_another_owner(tether: Tether) -> None:
    loop = "class Script(ScriptBase):\n    async def execute(self):\n        while True:\n            pass\n"
    _connector, looping = tether.deploy(tether.alice, loop)
    _connector, quick = tether.deploy(tether.bob, INNOCENT, key="bob-key")
    results: list[httpx.Response] = []

    def call() -> None:
        with httpx.Client(base_url=tether.url, timeout=120) as http:
            results.append(http.post(f"{ENV}/connections/{looping}/invoke/GetLatest", headers=tether.alice))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while tether.pool.running < LIMITS.per_owner:  # alice's share is taken
        assert time.monotonic() < deadline, "alice's scripts never started"
        time.sleep(0.01)
    started = time.monotonic()
    answer = tether.invoke(tether.bob, quick)
    bob_took = time.monotonic() - started
    for thread in threads:
        thread.join(timeout=120)
    assert answer.status_code == 200, answer.text
    assert bob_took < LIMITS.timeout, f"bob waited {bob_took:.1f} s behind alice's loops"
    statuses = sorted(r.status_code for r in results)
    assert statuses == [503, 503, 503, 503, 504, 504], [r.text for r in results]
    busy = next(r for r in results if r.status_code == 503).json()
    assert busy["type"].endswith("/script-busy") and "per-owner limit" in busy["detail"]
    assert tether.healthy()


# -- no sandbox, no custom code ------------------------------------------------------------------------------


async def _answer(request: ScriptRequest) -> ScriptResponse:
    return ScriptResponse(200, {}, b"{}")


def _run_alone(pool: ScriptPool) -> Any:
    async def go() -> Any:
        async with pool:
            return await pool.run(INNOCENT, ScriptRequest("GET", "https://example.com/", {}, b""), _answer,
                                  operation_id="Op")  # fmt: skip

    return asyncio.run(go())


def test_without_bwrap_custom_code_is_refused_naming_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(
        ScriptSandboxUnavailable, match=r"'bwrap' was not found.*apt-get install bubblewrap"
    ) as caught:
        _run_alone(ScriptPool(1, limits=LIMITS))
    assert caught.value.status == 503


def test_a_bwrap_that_cannot_make_namespaces_refuses_custom_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A stand-in for bwrap on a kernel without unprivileged user namespaces: it fails as bwrap does.
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    with pytest.raises(ScriptSandboxUnavailable, match=r"No permissions to create new namespace.*bubblewrap"):
        _run_alone(ScriptPool(1, limits=LIMITS))
