"""Throttled password logins through a real Tether server over HTTP (and the CLI's ``tether login``).

The login route is ``POST /api/v1/tokens`` with HTTP Basic (what ``tether login`` calls). Clients
come from different loopback addresses (127.0.0.2, .3, ...) so the per-address and the
per-user-name limits are seen apart. The throttle window is 15 s here (a minute by default).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tether import services
from tether.api import create_app, serve_in_thread
from tether.cli import app as cli_app
from tether.config import load_settings
from tether.store import Database

PASSWORD = "throttle-admin-password"
LIMIT = 5
WINDOW = 15.0


@dataclass
class Server:
    url: str

    def login(self, username: str, password: str, *, source: str = "127.0.0.2") -> httpx.Response:
        """``POST /tokens`` with a user name and password, from the loopback address ``source``."""
        transport = httpx.HTTPTransport(local_address=source)
        with httpx.Client(transport=transport, timeout=30) as client:
            return client.post(f"{self.url}/api/v1/tokens", json={"name": "t"}, auth=(username, password))


@pytest.fixture
def server(tmp_path: Path, migrated_url: str) -> Iterator[Server]:
    settings = load_settings(
        home=tmp_path / "home",
        database_url=migrated_url,
        admin_password=PASSWORD,
        login_failures_per_minute=LIMIT,
        login_throttle_seconds=WINDOW,
    )
    database = Database(migrated_url)
    services.bootstrap(database, settings)
    with serve_in_thread(create_app(settings, database)) as url:
        yield Server(url)
    database.close()


def _wait_out(answer: httpx.Response) -> None:
    """Wait the ``Retry-After`` the server gave (bounded by the window)."""
    seconds = int(answer.headers["Retry-After"])
    assert 1 <= seconds <= WINDOW + 1
    deadline = time.monotonic() + seconds + 0.2
    while time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_wrong_passwords_are_throttled_per_user_name_then_the_window_passes(server: Server) -> None:
    for attempt in range(LIMIT):
        refused = server.login("admin", f"wrong-{attempt}", source=f"127.0.0.{10 + attempt}")
        assert refused.status_code == 401, refused.text
    # Past the limit even the right password is refused, from any address, with Retry-After.
    throttled = server.login("admin", PASSWORD, source="127.0.0.99")
    assert throttled.status_code == 429, throttled.text
    assert throttled.json()["type"].endswith("login-throttled") and "Retry-After" in throttled.headers
    assert PASSWORD not in throttled.text
    _wait_out(throttled)
    assert server.login("admin", PASSWORD, source="127.0.0.99").status_code == 201


@pytest.mark.parametrize("backend", ["sqlite"])
def test_one_address_trying_many_user_names_is_throttled(server: Server) -> None:
    for attempt in range(LIMIT):
        assert server.login(f"user{attempt}", "guess-password", source="127.0.0.3").status_code == 401
    throttled = server.login("admin", PASSWORD, source="127.0.0.3")
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    # The account itself is not locked for everyone else: another address signs in.
    assert server.login("admin", PASSWORD, source="127.0.0.4").status_code == 201


@pytest.mark.parametrize("backend", ["sqlite"])
def test_unknown_user_names_answer_exactly_like_wrong_passwords(server: Server) -> None:
    unknown = [server.login("nobody", "guess-password", source=f"127.0.1.{n}") for n in range(LIMIT + 1)]
    known = [server.login("admin", "guess-password", source=f"127.0.2.{n}") for n in range(LIMIT + 1)]
    assert [a.status_code for a in unknown] == [a.status_code for a in known] == [401] * LIMIT + [429]
    # Same words: nothing tells which names exist (each answer has its own request id).
    assert _without_request_id(unknown[0].json()) == _without_request_id(known[0].json())
    waited = [re.sub(r"\d+", "N", a.json()["detail"]) for a in (unknown[-1], known[-1])]
    assert waited[0] == waited[1]  # the same, but for how many seconds are left


@pytest.mark.parametrize("backend", ["sqlite"])
def test_tether_login_says_it_is_throttled(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "cli-home"))
    for name in ("TETHER_URL", "TETHER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    for attempt in range(LIMIT):
        failed = runner.invoke(
            cli_app, ["login", "--server", server.url, "--username", "admin", "--password", f"bad-{attempt}"]
        )
        assert failed.exit_code != 0 and "Wrong username or password" in failed.output
    throttled = runner.invoke(
        cli_app, ["login", "--server", server.url, "--username", "admin", "--password", PASSWORD]
    )
    assert throttled.exit_code != 0 and "Too many failed sign-ins" in throttled.output
    assert "Traceback" not in throttled.output


def _without_request_id(problem: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in problem.items() if key != "requestId"}
