"""``tether admin …``: platform administration on a server."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import ServerOption, TokenOption, client_for, fetch_items
from tether.cli._output import JsonOption, friendly, out, print_items, print_json

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


@app.command("audit")
@friendly
def audit(
    env: Annotated[
        str | None, typer.Option("--env", "-e", help="One environment (its admins may read it); default all.")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="An action, or a family ending with '.', e.g. 'connector.'.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this user's actions.")] = None,
    target: Annotated[
        str | None, typer.Option(help="Only about this resource, e.g. 'connector:<id>'.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events (1-1000).")] = 100,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the audit log, newest first: who did what, when, and how they signed in (never a secret)."""
    given = {"action": action, "actor": actor, "target": target, "since": since, "until": until}
    params: dict[str, object] = {key: value for key, value in given.items() if value is not None}
    params["limit"] = limit
    path = f"/environments/{env}/audit" if env else "/audit"
    print_items(
        fetch_items(server, token, path, params=params),
        as_json=as_json,
        row=lambda e: (
            e["at"][:19],
            escape(e["actor"] or "system"),
            escape(e["via"] or ""),
            escape(e["action"]),
            escape(e["target"] or ""),
            escape(e["environment"] or ""),
        ),
        columns=("at (UTC)", "actor", "via", "action", "target", "environment"),
        empty="No audit events match.",
    )


def _oauth_cell(item: dict[str, Any]) -> str:
    parts = []
    for p in item["oauth_parameters"]:
        where = f"{p['parameter_set']}/" if p["parameter_set"] else ""
        parts.append(f"{where}{p['parameter']}: {p['identity_provider'] or '?'} {p['redirect_mode']}")
    return escape("; ".join(parts) or "-")


@app.command("connectors")
@friendly
def connectors(
    env: Annotated[
        str | None,
        typer.Option(
            "--env", "-e", help="One environment (its admins may read it); default all (platform admins)."
        ),
    ] = None,
    auth_type: Annotated[
        str | None, typer.Option("--auth-type", help="Only this auth type: none, apiKey, basic or oauth2.")
    ] = None,
    redirect_mode: Annotated[
        str | None,
        typer.Option(
            "--redirect-mode", help="Only with an OAuth parameter on: Global, GlobalPerConnector, Direct."
        ),
    ] = None,
    creator: Annotated[str | None, typer.Option(help="Only made by this user name or email.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many connectors (1-500).")] = 100,
    cursor: Annotated[
        str | None, typer.Option(help="Start where an earlier page said to (its next --cursor).")
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The custom-connector inventory: creators, auth types, OAuth providers and redirect modes."""
    given = {"authType": auth_type, "redirectMode": redirect_mode, "creator": creator}
    params: dict[str, object] = {key: value for key, value in given.items() if value is not None}
    params["limit"] = limit
    if cursor:
        params["cursor"] = cursor
    path = f"/environments/{env}/admin/connectors" if env else "/admin/connectors"
    with client_for(server, token) as client:
        page = client.json("GET", path, params=params)
    if as_json:
        print_json(page)
        return
    print_items(
        page["items"],
        as_json=False,
        row=lambda c: (
            escape(c["display_name"]),
            escape(c["environment"]),
            escape(f"{c['creator_name'] or c['creator'] or '-'} <{c['creator_email'] or '-'}>"),
            escape(", ".join(c["auth_types"])),
            _oauth_cell(c),
            str(c["connection_count"]),
            c["updated_at"][:19],
            escape(c["certification"]),
            c["id"],
        ),
        columns=(
            "connector",
            "environment",
            "creator",
            "auth",
            "OAuth (provider, redirect)",
            "connections",
            "modified (UTC)",
            "certification",
            "id",
        ),
        empty="No custom connectors match.",
    )
    if page["next_cursor"]:
        out.print(f"{len(page['items'])} of {page['total']}: next page with --cursor {page['next_cursor']}")


from tether.cli.redirect_audit import redirect_audit  # noqa: E402  (registered on this group)

app.command("redirect-audit")(redirect_audit)
