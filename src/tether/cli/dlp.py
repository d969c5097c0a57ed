"""``tether env dlp …``: an environment's data policy (connector groups, Http host rules)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for
from tether.cli._output import JsonOption, friendly, out, print_items, print_json

__all__ = ["app"]

app = typer.Typer(
    help="Data policy: business / non-business / blocked connectors and Http host rules.",
    no_args_is_help=True,
)


def _print(policy: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(policy)
        return
    out.print(f"Default group: [bold]{policy['default_group']}[/]")
    out.print(f"Http allowed hosts: {escape(', '.join(policy['http_allowed_hosts']) or 'any')}")
    out.print(f"Http denied hosts: {escape(', '.join(policy['http_denied_hosts']) or 'none')}")
    print_items(
        policy["connectors"],
        as_json=False,
        row=lambda c: (
            escape(c["name"]),
            c["kind"],
            c["group"] + ("" if c["explicit"] else " (default)"),
            c["key"],
        ),
        columns=("connector", "kind", "group", "key"),
    )
    for flow in policy["suspended"]:
        out.print(f"[yellow]Suspended flow {escape(flow)}[/]: it breaks the policy (see 'tether flow show').")


@app.command("show")
@friendly
def show(env: EnvOption = "default", server: ServerOption = None, token: TokenOption = None,
         as_json: JsonOption = False) -> None:  # fmt: skip
    """The policy and every connector's group."""
    with client_for(server, token) as client:
        _print(client.json("GET", f"/environments/{env}/data-policy"), as_json)


@app.command("set")
@friendly
def set_policy(
    default_group: Annotated[
        str | None,
        typer.Option(help="The group of unclassified connectors: business, non-business, blocked."),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option("--allow-host", help="Host pattern Http may call (repeat); replaces the list."),
    ] = None,
    deny_host: Annotated[
        list[str] | None,
        typer.Option("--deny-host", help="Host pattern Http may not call (repeat); replaces the list."),
    ] = None,
    clear_hosts: Annotated[bool, typer.Option("--clear-hosts", help="Empty both host lists.")] = False,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change the default group or the Http host rules (environment admins); breaking flows are suspended."""
    body: dict[str, Any] = {"default_group": default_group}
    if clear_hosts:
        body.update(http_allowed_hosts=[], http_denied_hosts=[])
    if allow_host is not None:
        body["http_allowed_hosts"] = allow_host
    if deny_host is not None:
        body["http_denied_hosts"] = deny_host
    with client_for(server, token) as client:
        _print(client.json("PATCH", f"/environments/{env}/data-policy", json=body), as_json)


@app.command("classify")
@friendly
def classify(
    connector: Annotated[
        str, typer.Argument(help="A connector's name or id, builtin:http, or catalog:NAME.")
    ],
    group: Annotated[str, typer.Argument(help="business, non-business, blocked, or default.")],
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put a connector in a group (environment admins); flows it breaks are suspended."""
    body = {"group": None if group == "default" else group}
    with client_for(server, token) as client:
        _print(
            client.json("PUT", f"/environments/{env}/data-policy/connectors/{connector}", json=body), as_json
        )
