"""``tether admin …``: platform administration on a server."""

from __future__ import annotations

import typer

from tether.cli._context import ServerOption, TokenOption, client_for
from tether.cli._output import JsonOption, friendly, out, print_json

__all__ = ["app"]

app = typer.Typer(help="Platform administration (platform admins only).", no_args_is_help=True)


@app.command("rotate-key")
@friendly
def rotate_key(
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a new encryption key and re-encrypt every stored secret with it, while the server runs.

    The server does the work (it holds the key ring); restart other replicas afterwards so they load
    the new key. With TETHER_MASTER_KEY the server refuses: set 'new,old' keys there and restart.
    """
    with client_for(server, token) as client:
        result = client.json("POST", "/admin/rotate-key")
    if as_json:
        print_json(result)
        return
    out.print(
        f"Rotated: {result['keys']} keys on the ring; {result['reencrypted']} secrets re-encrypted, "
        f"{result['already_current']} already current."
    )
