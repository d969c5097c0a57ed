"""``tether login``, ``logout`` and ``whoami``: the CLI's identity on a server."""

from __future__ import annotations

import socket
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._client import ApiClient, Credentials, forget_credentials, save_credentials
from tether.cli._context import ServerOption, TokenOption, client_for, fetch_items, tether_home
from tether.cli._output import JsonOption, err, friendly, out, print_items, print_json

__all__ = ["login", "logout", "token_app", "whoami"]

DEFAULT_SERVER = "http://127.0.0.1:8000"


def login(
    server: Annotated[
        str, typer.Option("--server", envvar="TETHER_URL", help="Tether server URL.")
    ] = DEFAULT_SERVER,
    username: Annotated[str, typer.Option("--username", "-u", help="Your user name.")] = "admin",
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar="TETHER_PASSWORD",
            help="Your password (asked for when not given).",
            show_default=False,
        ),
    ] = None,
    token: TokenOption = None,
) -> None:
    """Log in to a server and store a personal access token for later commands.

    With --token, stores that token after checking it; otherwise creates a new token with
    your user name and password (the password itself is never stored).
    """
    if token is None:
        password = password if password is not None else typer.prompt("Password", hide_input=True)
        with ApiClient(server, None) as client:
            created = client.json(
                "POST",
                "/tokens",
                json={"name": f"tether CLI on {socket.gethostname()}"},
                auth=(username, password),
            )
        token = created["token"]
    with ApiClient(server, token) as client:
        me = client.json("GET", "/me")
    path = save_credentials(tether_home(), Credentials(server=server, token=token))
    out.print(
        f"Logged in to {escape(server)} as {escape(me['username'])}. Token saved in {escape(str(path))}."
    )
    out.print("Next: 'tether connector list' or 'tether connector create PATH'.")


def logout() -> None:
    """Forget the stored token (revoke it on the server with 'tether token revoke' if needed)."""
    if forget_credentials(tether_home()):
        out.print("Logged out.")
    else:
        out.print("Not logged in.")


def whoami(
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show who the stored (or given) token belongs to, and its environments."""
    with client_for(server, token) as client:
        me = client.json("GET", "/me")
        environments = client.json("GET", "/environments")["items"]
    if as_json:
        print_json({"user": me, "environments": environments})
        return
    out.print(f"{escape(me['username'])} on {escape(client.server)}")
    for environment in environments:
        out.print(f"  {escape(environment['name'])} ({environment.get('role') or 'admin'})")


token_app = typer.Typer(help="Your personal access tokens (for scripts and CI).", no_args_is_help=True)


@token_app.command("create")
@friendly
def token_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'CI on build01'.")],
    expires_in_days: Annotated[
        int | None, typer.Option(help="Lifetime in days (default: no expiry).")
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Create a token and print it once (it is stored hashed and cannot be shown again)."""
    with client_for(server, token) as client:
        created = client.json("POST", "/tokens", json={"name": name, "expires_in_days": expires_in_days})
    out.print(created["token"])
    err.print(f"Token {escape(created['name'])} ({created['prefix']}…): copy it now, it is not shown again.")


@token_app.command("list")
@friendly
def token_list(
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List your tokens (their prefixes, never their values)."""
    print_items(
        fetch_items(server, token, "/tokens"),
        as_json=as_json,
        row=lambda t: (t["id"], f"{t['prefix']}…", escape(t["name"]), _token_state(t)),
    )


def _token_state(item: dict[str, Any]) -> str:
    if item["revoked_at"]:
        return "revoked"
    return f"expires {item['expires_at']}" if item["expires_at"] else ""


@token_app.command("revoke")
@friendly
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (see 'tether token list').")],
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Revoke a token: it stops working at once."""
    with client_for(server, token) as client:
        client.request("DELETE", f"/tokens/{token_id}")
    out.print(f"Revoked token {escape(token_id)}.")
