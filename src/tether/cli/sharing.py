"""``tether connector|connection|flow share, unshare, access``: who may do what with a resource."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for
from tether.cli._output import JsonOption, friendly, out, print_json

__all__ = ["add_sharing_commands"]

ResourceArgument = Annotated[str, typer.Argument(help="Its name or id.")]
PermissionOption = Annotated[
    str | None,
    typer.Option(
        "--permission",
        "-p",
        help="Connectors: edit or use (default). Connections: use. Flows: edit or run (default).",
    ),
]
GranteeArgument = Annotated[
    str, typer.Argument(help="'user:NAME' (or NAME), 'group:NAME', or 'everyone' in the environment.")
]


def _print_access(access: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print_json(access)
        return
    out.print(f"{access['kind']} {escape(access['name'])} ({access['id']})")
    out.print(f"  owner: {escape(access['owner'] or '-')}; you: {access['your_relation'] or '-'}")
    if not access["grants"]:
        out.print("  not shared")
    for grant in access["grants"]:
        who = (
            grant["grantee"]
            if grant["grantee_kind"] == "everyone"
            else f"{grant['grantee_kind']}:{grant['grantee']}"
        )
        out.print(f"  {escape(who)}: {grant['permission']} (by {escape(grant['granted_by'] or '-')})")
    for change in access.get("destination_changes") or []:
        facts = ", ".join(escape(name) for name in change["changes"])
        out.print(
            f"  [yellow]destination changed[/] {change['at']} by {escape(change['by'] or '-')}: {facts}"
        )


def add_sharing_commands(
    app: typer.Typer, *, collection: str, noun: str, permissions: tuple[str, ...]
) -> None:
    """Add ``share``, ``unshare`` and ``access`` to ``app`` for ``/environments/{env}/{collection}/…``."""
    choices = " or ".join(permissions)

    @app.command("share")
    @friendly
    def share(
        resource: ResourceArgument,
        grantee: GranteeArgument,
        permission: PermissionOption = None,
        env: EnvOption = "default",
        server: ServerOption = None,
        token: TokenOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with client_for(server, token) as client:
            access = client.json(
                "PUT",
                f"/environments/{env}/{collection}/{resource}/access",
                json={"grantee": grantee, "permission": permission or permissions[-1]},
            )
        _print_access(access, as_json=as_json)

    share.__doc__ = f"Share a {noun} ({choices}) with a user, a group or everyone in the environment."

    @app.command("unshare")
    @friendly
    def unshare(
        resource: ResourceArgument,
        grantee: GranteeArgument,
        env: EnvOption = "default",
        server: ServerOption = None,
        token: TokenOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with client_for(server, token) as client:
            access = client.json("DELETE", f"/environments/{env}/{collection}/{resource}/access/{grantee}")
        _print_access(access, as_json=as_json)

    unshare.__doc__ = f"Stop sharing a {noun} with a grantee; it stops working for them on their next call."

    @app.command("access")
    @friendly
    def access(
        resource: ResourceArgument,
        env: EnvOption = "default",
        server: ServerOption = None,
        token: TokenOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with client_for(server, token) as client:
            found = client.json("GET", f"/environments/{env}/{collection}/{resource}/access")
        _print_access(found, as_json=as_json)

    access.__doc__ = f"Show a {noun}'s owner and who it is shared with (and recent destination changes)."
