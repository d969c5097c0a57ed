"""The root command imports a command's module only when that command runs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

import tether
from tether.cli import app
from tether.cli._app import COMMANDS, load_command

SERVER_MODULES = ("sqlalchemy", "alembic", "uvicorn", "fastapi", "celery", "zeep")


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_roots_help_line_is_the_commands_own(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert (command.help or "").strip().splitlines()[0] == COMMANDS[name][2]


def _imported_after(argv: list[str]) -> set[str]:
    """Run ``tether ARGV`` in a fresh interpreter; the top-level modules it imported."""
    script = (
        "import sys\nfrom tether.cli import main\nsys.argv = ['tether', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('MODULES', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=120, check=False
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("MODULES "))
    return set(line.split()[1:])


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], ["expression", "eval", "@add(1, 2)"], ["flow", "--help"]]
)
def test_offline_commands_import_none_of_the_server(argv: list[str]) -> None:
    imported = _imported_after(argv)
    assert not imported & set(SERVER_MODULES), sorted(imported & set(SERVER_MODULES))


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"tether {tether.__version__}"


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


# What each offline command must not load (each costs 50-500 ms of CPU at start; bench/bench_cli_start.py).
HEAVY_FOR_OFFLINE = {
    "httpx": "the HTTP client: only commands that call a server need it",
    "pydantic_settings": "process settings: only commands that read TETHER_* need them",
    "openapi_spec_validator": "its package init loads jsonschema-path and pydantic-settings",
    "lxml": "only the XML expression functions need it",
}


def test_offline_validation_commands_import_only_what_they_use(tmp_path) -> None:
    flow = tmp_path / "flow.json"
    flow.write_text(
        '{"definition": {"triggers": {"manual": {"type": "Request", "kind": "Http"}},'
        ' "actions": {"Say": {"type": "Compose", "inputs": "hi"}}}}'
    )
    swagger = tmp_path / "api.json"
    swagger.write_text('{"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {}}')
    for argv in (
        ["flow", "validate", str(flow)],
        ["validate", str(swagger)],
        ["expression", "eval", "@add(1,2)"],
    ):
        imported = _imported_after(argv)
        heavy = {name: why for name, why in HEAVY_FOR_OFFLINE.items() if name in imported}
        assert not heavy, f"tether {' '.join(argv[:2])} imported {heavy}"
