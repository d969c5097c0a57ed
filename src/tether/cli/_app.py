"""The root ``tether`` command: a lazy group, and the error handling every command shares.

Each command's module is imported only when that command runs: the server's modules
(SQLAlchemy, Alembic, uvicorn, FastAPI) cost seconds of CPU on a small machine, and an offline
command such as ``tether validate`` or ``tether expression eval`` must start at once. So the
root's help is written here, one line per command (``tests/cli/test_lazy_root.py`` checks each
against the command's own help), and ``tether --help`` imports none of them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperGroup

import tether

__all__ = ["COMMANDS", "app", "main"]

# name → (module, attribute, the first line of its help). An attribute is either a Typer app
# (a command group) or a function (a single command, wrapped in ``friendly`` when loaded).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("tether.cli.demo", "demo",
        "Start Tether and a sample API, connect them, and call the API through a connector."),
    "validate": ("tether.cli.validate", "validate",
        "Validate connector packages offline: structure, x-ms-* extensions, apiProperties, policies."),
    "serve": ("tether.cli.serve", "serve",
        "Start the Tether server: API under /api/v1, docs at /docs."),
    "mcp": ("tether.cli.mcp_server", "mcp",
        "Serve MCP on stdin/stdout: your connections' operations and flows as tools for an AI agent."),
    "worker": ("tether.cli.worker", "worker",
        "Execute flow runs submitted by 'tether serve' (needs TETHER_BROKER_URL and PostgreSQL)."),
    "invoke": ("tether.cli.invoke", "invoke",
        "Call an operation through your connection and print the API's answer."),
    "login": ("tether.cli.account", "login",
        "Log in to a server and store a personal access token for later commands."),
    "logout": ("tether.cli.account", "logout",
        "Forget the stored token (revoke it on the server with 'tether token revoke' if needed)."),
    "whoami": ("tether.cli.account", "whoami",
        "Show who the stored (or given) token belongs to, and its environments."),
    "connector": ("tether.cli.connector", "app",
        "Create, update, download, validate, list, share and delete connectors on a Tether server."),
    "token": ("tether.cli.account", "token_app",
        "Your personal access tokens (for scripts and CI)."),
    "connection": ("tether.cli.connection", "app",
        "Create, list, show, test, update, share and delete connections."),
    "admin": ("tether.cli.admin", "app",
        "Platform administration (platform admins only)."),
    "group": ("tether.cli.organization", "group_app",
        "Groups of users (platform admins manage them)."),
    "user": ("tether.cli.organization", "user_app",
        "Users (platform admins)."),
    "flow": ("tether.cli.flow", "app",
        "Workflow definitions (Logic Apps workflow definition language)."),
    "solution": ("tether.cli.solution", "app",
        "Solutions: move connectors, flows and environment variables between environments as one zip."),
    "env": ("tether.cli.env", "app",
        "Environments: variables, members, group roles and settings."),
    "expression": ("tether.cli.expression", "app",
        "The workflow expression language, offline."),
    "certify": ("tether.cli.certify", "app",
        "Certification: submit a connector revision, see its status, review (certifiers)."),
    "catalog": ("tether.cli.catalog", "app",
        "The catalog of certified connectors: list, show, install."),
    "import": ("tether.cli.importing", "import_app",
        "Turn an API description into a connector package."),
    "gateway": ("tether.cli.gateway", "app",
        "On-premises data gateways: run an agent in a private network, manage clusters."),
    "export": ("tether.cli.importing", "export_app",
        "Write a connector package in another platform's format."),
    "events": ("tether.cli.events", "events_app",
        "The environment's event stream (list, --follow)."),
    "webhook": ("tether.cli.events", "webhook_app",
        "Webhook subscriptions: create, list, show, update, delete, rotate-secret, deliveries, replay,"
        " test."),
    "alerts": ("tether.cli.events", "alerts_app",
        "Alerts by email: settings, subscribe, mute the failure digest."),
}  # fmt: skip


def load_command(name: str) -> Any:
    """Import command ``name``'s module and build its click command."""
    from tether.cli._output import friendly

    module, attribute, _help = COMMANDS[name]
    target: Any = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)  # stays a group even with one subcommand
        group = typer.main.get_group(holder)
        return group.commands[name]
    holder.command(name=name)(friendly(target))
    return typer.main.get_command(holder)


class _LazyRoot(TyperGroup):
    """Lists every command from :data:`COMMANDS`; imports one only when it is asked for."""

    # Typed loosely: Typer vendors its own click, whose classes are not the click package's.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_line) for name, (_m, _a, help_line) in COMMANDS.items()])


def _print_version(value: bool) -> None:
    if value:
        print(f"tether {tether.__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=_LazyRoot,
    name="tether",
    help="Tether: build, validate, share and run custom connectors (Power Platform compatible).",
    no_args_is_help=True,
    # Plain help for the root: rich's formatter would import every command to read its help.
    rich_markup_mode=None,
    # Locals in tracebacks could print secrets; and users get one-line errors anyway.
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print Tether's version and exit.", callback=_print_version, is_eager=True
    ),
) -> None:
    """Tether: build, validate, share and run custom connectors (Power Platform compatible)."""


def main() -> None:
    """Entry point: run the app, turning any TetherError into one clear line and exit code."""
    from tether.errors import TetherError

    try:
        app(standalone_mode=True)
    except TetherError as exc:  # raised outside a command's own handling
        from tether.cli._output import fail

        fail(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
