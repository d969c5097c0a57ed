"""The CLI through Typer's CliRunner, against a real API server on a free local port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tether import services
from tether.api import create_app, serve_in_thread
from tether.cli import app
from tether.config import load_settings
from tether.store import Database, migrate

PASSWORD = "cli-admin-password"


@dataclass
class Cli:
    runner: CliRunner
    url: str

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, list(args), input=input)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = load_settings(home=tmp_path_factory.mktemp("server-home"), admin_password=PASSWORD)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    with serve_in_thread(create_app(settings, database)) as url:
        yield url
    database.close()


@pytest.fixture
def cli(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A CLI whose TETHER_HOME (where 'tether login' keeps its token) is the test's own."""
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "cli-home"))
    for name in ("TETHER_URL", "TETHER_TOKEN", "TETHER_ENVIRONMENT", "TETHER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return Cli(runner=CliRunner(), url=server)


@pytest.fixture
def logged_in(cli: Cli) -> Cli:
    result = cli("login", "--server", cli.url, "--username", "admin", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    return cli
