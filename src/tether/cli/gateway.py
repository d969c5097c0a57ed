"""``tether gateway``: on-premises gateways, from both sides.

Inside the private network (the agent): ``register`` once with a one-time token, the cluster's
name and its recovery key, then ``run``. On the Tether side (the gateway's owner): ``create``,
``token`` (for each further agent), ``list``, ``members``, ``remove-member``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for, fetch_items, tether_home
from tether.cli._output import JsonOption, friendly, out, print_items, print_json

__all__ = ["app"]

app = typer.Typer(
    help="On-premises data gateways: run an agent in a private network, manage clusters.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="The agent's config file (default: TETHER_HOME/gateway-agent.json)."),
]
AllowOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allow",
        "-a",
        help="A host, address or network (optionally ':port') the agent may call; repeat for more.",
    ),
]


def _config_path(config: Path | None) -> Path:
    from tether.gateway import DEFAULT_CONFIG_NAME

    return config or tether_home() / DEFAULT_CONFIG_NAME


@app.command("register")
@friendly
def register(
    server: Annotated[str, typer.Option("--server", help="The Tether server URL this agent dials out to.")],
    registration_token: Annotated[
        str, typer.Option("--registration-token", envvar="TETHER_GATEWAY_TOKEN", help="One-time token.")
    ],
    cluster: Annotated[str, typer.Option("--cluster", help="The gateway cluster's name.")],
    recovery_key: Annotated[
        str,
        typer.Option(
            "--recovery-key",
            envvar="TETHER_GATEWAY_RECOVERY_KEY",
            help="The cluster's recovery key (new cluster: choose one and keep it; else: the same one).",
        ),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="This agent's name (default: host name).")
    ] = None,
    allow: AllowOption = None,
    config: ConfigOption = None,
) -> None:
    """Register this machine as an agent of a gateway cluster (once); writes the agent's config."""
    from tether.gateway import register as register_agent
    from tether.gateway import save_config

    registered = asyncio.run(
        register_agent(
            server,
            token=registration_token,
            cluster=cluster,
            recovery_key=recovery_key,
            name=name,
            allow=tuple(allow or ()),
        )
    )
    path = save_config(_config_path(config), registered)
    out.print(f"Registered agent {escape(registered.name)} of gateway {escape(cluster)}; config: {path}")
    out.print("Run it with: tether gateway run" + (f" --config {path}" if config else ""))


@app.command("run")
@friendly
def run(config: ConfigOption = None, allow: AllowOption = None) -> None:
    """Run the agent: dial out to Tether and relay calls into this network (until interrupted)."""
    from tether.gateway import Agent, load_config

    loaded = load_config(_config_path(config)).with_allow(tuple(allow or ()))
    if not loaded.allow:
        out.print("[yellow]The allowlist is empty: every call will be refused (add --allow HOST[:PORT]).[/]")
    agent = Agent(loaded)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await agent.run(stop)

    out.print(
        f"Gateway agent {escape(loaded.name)} of {escape(loaded.cluster)} → {escape(loaded.server)} "
        f"(allows: {escape(', '.join(loaded.allow) or 'nothing')})"
    )
    asyncio.run(main())


@app.command("create")
@friendly
def create(
    name: Annotated[str, typer.Argument(help="The gateway cluster's name.")],
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a gateway cluster; prints its first one-time registration token."""
    with client_for(server, token) as client:
        created = client.json("POST", f"/environments/{env}/gateways", json={"name": name})
    _print_token(created, as_json)


@app.command("token")
@friendly
def issue_token(
    name: Annotated[str, typer.Argument(help="The gateway cluster's name.")],
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A new one-time registration token, to add an agent to the cluster."""
    with client_for(server, token) as client:
        issued = client.json("POST", f"/environments/{env}/gateways/{name}/tokens")
    _print_token(issued, as_json)


def _print_token(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(info)
        return
    out.print(f"Gateway {escape(info['name'])}: registration token (shown once, valid 24 h):")
    out.print(info["registration_token"])


@app.command("list")
@friendly
def list_gateways(
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The environment's gateways with their members online."""
    print_items(
        fetch_items(server, token, f"/environments/{env}/gateways"),
        as_json=as_json,
        row=lambda g: (
            escape(g["name"]),
            f"{g['online']}/{g['members']}",
            g["public_key"] or "(no agent yet)",
        ),
        columns=("gateway", "online", "public key"),
        empty="No gateways.",
    )


@app.command("members")
@friendly
def members(
    name: Annotated[str, typer.Argument(help="The gateway cluster's name.")],
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A cluster's agents: status, version, load and last contact."""
    print_items(
        fetch_items(server, token, f"/environments/{env}/gateways/{name}/members"),
        as_json=as_json,
        row=lambda m: (
            m["id"],
            escape(m["name"]),
            m["status"],
            m["version"] or "",
            str(m["load"]),
            m["last_contact_at"] or "never",
        ),
        columns=("id", "name", "status", "version", "load", "last contact"),
        empty="No agents registered.",
    )


@app.command("remove-member")
@friendly
def remove_member(
    name: Annotated[str, typer.Argument(help="The gateway cluster's name.")],
    member: Annotated[str, typer.Argument(help="The agent's id or name.")],
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Remove an agent: its tunnel closes and its secret stops working."""
    with client_for(server, token) as client:
        client.request("DELETE", f"/environments/{env}/gateways/{name}/members/{member}")
    out.print(f"Removed {escape(member)} from gateway {escape(name)}.")
