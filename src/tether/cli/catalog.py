"""``tether catalog …``: certified connectors, visible in every environment, and installing them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for, fetch_items
from tether.cli._output import JsonOption, friendly, out, print_items, print_json

__all__ = ["app"]

app = typer.Typer(help="The catalog of certified connectors: list, show, install.", no_args_is_help=True)

EntryArgument = Annotated[str, typer.Argument(help="The catalog entry's name.")]


@app.command("list")
@friendly
def list_entries(server: ServerOption = None, token: TokenOption = None, as_json: JsonOption = False) -> None:
    """Every certified connector."""
    print_items(
        fetch_items(server, token, "/catalog"),
        as_json=as_json,
        row=lambda e: (
            escape(e["name"]),
            escape(e["display_name"]),
            f"v{e['version']}",
            escape(e["publisher"]),
        ),
        columns=("name", "display name", "version", "publisher"),
        empty="The catalog is empty: nothing has been certified yet.",
    )


@app.command("show")
@friendly
def show(
    name: EntryArgument, server: ServerOption = None, token: TokenOption = None, as_json: JsonOption = False
) -> None:
    """An entry's description, readme and operations."""
    with client_for(server, token) as client:
        entry = client.json("GET", f"/catalog/{name}")
    if as_json:
        print_json(entry)
        return
    out.print(f"[bold]{escape(entry['display_name'])}[/] ({escape(entry['name'])} v{entry['version']}, "
              f"by {escape(entry['publisher'])})")  # fmt: skip
    out.print(escape(entry["description"]))
    for operation in entry["operations"]:
        out.print(f"  {operation['operation_id']}: {operation['method']} {escape(operation['path'])} - "
                  f"{escape(operation['summary'])}")  # fmt: skip
    out.print("")
    out.print(escape(entry["readme"] or ""))


@app.command("install")
@friendly
def install(
    name: EntryArgument,
    env: EnvOption = "default",
    as_name: Annotated[str | None, typer.Option("--name", help="The connector's name there.")] = None,
    client_id: Annotated[
        str | None, typer.Option(help="Your OAuth app's client id (OAuth connectors).")
    ] = None,
    client_secret: Annotated[
        str | None, typer.Option(help="Your OAuth app's client secret.", envvar="TETHER_CLIENT_SECRET")
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Install an entry into an environment as a connector (makers there); then create connections to it."""
    body = {"environment": env, "name": as_name, "client_id": client_id, "client_secret": client_secret}
    with client_for(server, token) as client:
        result = client.json("POST", f"/catalog/{name}/install", json=body)
    if as_json:
        print_json(result)
        return
    out.print(
        f"Installed {escape(name)} as connector {escape(result['name'])} ({result['id']}) in {escape(env)}."
    )
