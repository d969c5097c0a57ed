"""The root ``tether`` command and its error handling."""

from __future__ import annotations

import sys

import typer

from tether.cli import account, admin, connection, connector, expression, flow, importing
from tether.cli._output import err, fail, friendly
from tether.cli.demo import demo
from tether.cli.invoke import invoke
from tether.cli.serve import serve
from tether.cli.validate import validate
from tether.cli.worker import worker
from tether.errors import TetherError

__all__ = ["app", "main"]

app = typer.Typer(
    name="tether",
    help="Tether: build, validate, share and run custom connectors (Power Platform compatible).",
    no_args_is_help=True,
    # Locals in tracebacks could print secrets; and users get one-line errors anyway.
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
for _command in (demo, validate, serve, worker, invoke, account.login, account.logout, account.whoami):
    app.command()(friendly(_command))
app.add_typer(connector.app, name="connector")
app.add_typer(account.token_app, name="token")
app.add_typer(connection.app, name="connection")
app.add_typer(admin.app, name="admin")
app.add_typer(flow.app, name="flow")
app.add_typer(expression.app, name="expression")
app.add_typer(importing.import_app, name="import")
app.add_typer(importing.export_app, name="export")


def main() -> None:
    """Entry point: run the app, turning any TetherError into one clear line and exit code."""
    try:
        app(standalone_mode=True)
    except TetherError as exc:  # raised outside a command's own handling
        fail(exc)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
