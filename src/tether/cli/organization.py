"""``tether group``, ``tether env member|settings`` and ``tether user``: the organization."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, IfMatchOption, ServerOption, TokenOption, client_for, fetch_items
from tether.cli._output import JsonOption, friendly, out, print_items, print_json
from tether.errors import InputError

__all__ = ["group_app", "member_app", "settings_app", "user_app"]

group_app = typer.Typer(help="Groups of users (platform admins manage them).", no_args_is_help=True)
member_app = typer.Typer(help="Members of an environment and their roles.", no_args_is_help=True)
settings_app = typer.Typer(
    help="An environment's settings (environment admins change them).", no_args_is_help=True
)
user_app = typer.Typer(help="Users (platform admins).", no_args_is_help=True)
# ``tether env member …`` and ``tether env settings …``: mounted on the env group in ``cli/env.py``.

RoleOption = Annotated[str, typer.Option("--role", "-r", help="admin, maker or user.")]


def _group_row(group: dict[str, Any]) -> tuple[str, ...]:
    return (escape(group["name"]), group.get("role") or "", escape(", ".join(group["members"])))


@group_app.command("list")
@friendly
def group_list(
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only groups with a role here.")] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List groups with their members (with --env: the groups holding a role there, and the role)."""
    path = f"/environments/{env}/groups" if env else "/groups"
    print_items(
        fetch_items(server, token, path),
        as_json=as_json,
        row=_group_row,
        columns=("group", "role", "members"),
        empty="No groups.",
    )


@group_app.command("create")
@friendly
def group_create(
    name: Annotated[str, typer.Argument(help="A short name, e.g. 'sales'.")],
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Create a group."""
    with client_for(server, token) as client:
        client.json("POST", "/groups", json={"name": name})
    out.print(f"Created group {escape(name)}. Add people with 'tether group add {escape(name)} USER'.")


@group_app.command("add")
@friendly
def group_add(
    group: Annotated[str, typer.Argument(help="The group.")],
    usernames: Annotated[list[str], typer.Argument(help="One or more user names.")],
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Add users to a group."""
    with client_for(server, token) as client:
        for username in usernames:
            client.json("PUT", f"/groups/{group}/members/{username}")
    out.print(f"Added {escape(', '.join(usernames))} to {escape(group)}.")


@group_app.command("remove")
@friendly
def group_remove(
    group: Annotated[str, typer.Argument(help="The group.")],
    usernames: Annotated[list[str], typer.Argument(help="One or more user names.")],
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Take users out of a group (what it gave them stops on their next call)."""
    with client_for(server, token) as client:
        for username in usernames:
            client.json("DELETE", f"/groups/{group}/members/{username}")
    out.print(f"Removed {escape(', '.join(usernames))} from {escape(group)}.")


@member_app.command("list")
@friendly
def member_list(
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List an environment's members and roles (groups with a role: 'tether group list --env')."""
    print_items(
        fetch_items(server, token, f"/environments/{env}/members"),
        as_json=as_json,
        row=lambda m: (escape(m["username"]), m["role"]),
        columns=("user", "role"),
    )


@member_app.command("add")
@friendly
def member_add(
    name: Annotated[str, typer.Argument(help="A user name, or group:NAME to give a group the role.")],
    role: RoleOption = "user",
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Give a user (or a group) a role in an environment, or change it."""
    with client_for(server, token) as client:
        if name.startswith("group:"):
            client.json("PUT", f"/environments/{env}/groups", json={"group": name[6:], "role": role})
        else:
            client.json("PUT", f"/environments/{env}/members", json={"username": name, "role": role})
    out.print(f"{escape(name)} is {role} in {escape(env)}.")


@member_app.command("remove")
@friendly
def member_remove(
    name: Annotated[str, typer.Argument(help="A user name, or group:NAME.")],
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Take a user's (or a group's) role in an environment away."""
    with client_for(server, token) as client:
        if name.startswith("group:"):
            client.request("DELETE", f"/environments/{env}/groups/{name[6:]}")
        else:
            client.request("DELETE", f"/environments/{env}/members/{name}")
    out.print(f"Removed {escape(name)} from {escape(env)}.")


def _print_settings(found: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print_json(found)
        return
    for key, value in found.items():
        shown = ", ".join(value) if isinstance(value, list) else ("-" if value is None else str(value))
        out.print(f"{key}: {escape(shown)}")


@settings_app.command("show")
@friendly
def settings_show(
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an environment's settings."""
    with client_for(server, token) as client:
        found = client.json("GET", f"/environments/{env}/settings")
    _print_settings(found, as_json=as_json)


_SETTINGS = {
    "network_allow": "comma-separated hosts/CIDRs, or '' to clear",
    "oauth_global_redirect_enforcement": "a date YYYY-MM-DD, or '' to clear",
    "audit_retention_days": "days, or '' for the default (365)",
    "agent_connectors": "comma-separated connector names AI agents may use, or '' for all",
}


@settings_app.command("set")
@friendly
def settings_set(
    assignments: Annotated[
        list[str],
        typer.Argument(help="NAME=VALUE pairs: " + "; ".join(f"{k} ({v})" for k, v in _SETTINGS.items())),
    ],
    env: EnvOption = "default",
    if_match: IfMatchOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change settings, e.g. 'tether env settings set network_allow=127.0.0.1,api.corp'."""
    body: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or name not in _SETTINGS:
            raise InputError(f"{assignment!r}: use NAME=VALUE with NAME one of {', '.join(_SETTINGS)}.")
        if name == "network_allow":
            body[name] = [entry.strip() for entry in value.split(",") if entry.strip()]
        elif name == "agent_connectors":
            body[name] = [entry.strip() for entry in value.split(",") if entry.strip()] or None
        elif name == "audit_retention_days":
            if value and not value.isdigit():
                raise InputError(f"audit_retention_days must be a whole number of days, not {value!r}.")
            body[name] = int(value) if value else None
        else:
            body[name] = value or None
    with client_for(server, token) as client:
        path = f"/environments/{env}/settings"
        found = client.json("PUT", path, json=body, headers=client.if_match(path, if_match))
    _print_settings(found, as_json=as_json)


@user_app.command("list")
@friendly
def user_list(server: ServerOption = None, token: TokenOption = None, as_json: JsonOption = False) -> None:
    """List users."""
    print_items(
        fetch_items(server, token, "/users"),
        as_json=as_json,
        row=lambda u: (escape(u["username"]), escape(u["display_name"]), "admin" if u["is_admin"] else ""),
        columns=("user", "name", "platform"),
    )


@user_app.command("create")
@friendly
def user_create(
    username: Annotated[str, typer.Argument(help="The new user's name.")],
    password: Annotated[
        str | None,
        typer.Option(
            "--password", envvar="TETHER_NEW_PASSWORD", help="Their password (asked for when not given)."
        ),
    ] = None,
    no_password: Annotated[bool, typer.Option("--no-password", help="Token-only (or SSO) account.")] = False,
    admin: Annotated[bool, typer.Option("--admin", help="Make them a platform administrator.")] = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Create a user; add them to environments with 'tether env member add'."""
    if password is None and not no_password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    body: dict[str, Any] = {"username": username, "is_admin": admin}
    if password is not None and not no_password:
        body["password"] = password
    with client_for(server, token) as client:
        client.json("POST", "/users", json=body)
    out.print(
        f"Created user {escape(username)}. Next: 'tether env member add {escape(username)} --role maker'."
    )
