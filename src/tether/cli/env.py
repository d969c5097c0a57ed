"""``tether env var …``: an environment's variables, which flows read with ``appSetting()``."""

from __future__ import annotations

from typing import Annotated

import typer

from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for, fetch_items
from tether.cli._output import JsonOption, friendly, out, print_items, print_json
from tether.cli.dlp import app as dlp_app
from tether.cli.organization import member_app, settings_app

__all__ = ["app"]

app = typer.Typer(help="Environments: variables, members, group roles and settings.", no_args_is_help=True)
var_app = typer.Typer(
    help="Environment variables: values flows read with appSetting('NAME') or parameters('NAME').",
    no_args_is_help=True,
)
app.add_typer(var_app, name="var")
app.add_typer(member_app, name="member")
app.add_typer(settings_app, name="settings")
app.add_typer(dlp_app, name="dlp")


@var_app.command("set")
@friendly
def set_variable(
    name: Annotated[str, typer.Argument(help="Variable name, e.g. 'Orders.ApiUrl'.")],
    value: Annotated[
        str | None,
        typer.Argument(
            help="The value; leave it out with --secure to type it without echo.", show_default=False
        ),
    ] = None,
    secure: Annotated[
        bool, typer.Option("--secure", help="Encrypt it at rest and never show it back (keys, passwords).")
    ] = False,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create or replace a variable of the environment (environment admins)."""
    if value is None:
        if not secure:
            raise typer.BadParameter(
                "give a VALUE (or use --secure to type it without echo)", param_hint="VALUE"
            )
        value = typer.prompt(f"Value of {name}", hide_input=True)
    with client_for(server, token) as client:
        payload = {"value": value, "secure": secure}
        result = client.json("PUT", f"/environments/{env}/variables/{name}", json=payload)
    if as_json:
        print_json(result)
        return
    out.print(f"Set {result['name']}{' (secure)' if result['secure'] else ''} in environment {env}.")


@var_app.command("list")
@friendly
def list_variables(
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the environment's variables; secure values show as '(secure)'."""
    items = fetch_items(server, token, f"/environments/{env}/variables")
    print_items(
        items,
        as_json=as_json,
        columns=("name", "value"),
        row=lambda v: (v["name"], "(secure)" if v["secure"] else str(v["value"])),
        empty=f"No variables in environment {env}.",
    )


@var_app.command("delete")
@friendly
def delete_variable(
    name: Annotated[str, typer.Argument(help="Variable name.")],
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Delete a variable of the environment (environment admins)."""
    with client_for(server, token) as client:
        client.request("DELETE", f"/environments/{env}/variables/{name}")
    out.print(f"Deleted {name} from environment {env}.")
