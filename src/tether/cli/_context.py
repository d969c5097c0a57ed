"""Shared options for commands that talk to a server: where it is, who is calling, what they name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tether.errors import AuthError

if TYPE_CHECKING:
    from tether.cli._client import ApiClient

# The HTTP client (httpx) and the settings (pydantic-settings) load when a command first calls a
# server, not when a module that declares these options is imported: offline commands such as
# ``tether flow validate`` share a Typer app with online ones and should not pay for them.

__all__ = [
    "EnvOption",
    "FlowArgument",
    "IfMatchOption",
    "ServerOption",
    "TokenOption",
    "client_for",
    "fetch_items",
    "tether_home",
]

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server", envvar="TETHER_URL", help="Tether server URL (default: the one you logged in to)."
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="TETHER_TOKEN",
        help="Personal access token (default: from 'tether login').",
        show_default=False,
    ),
]
EnvOption = Annotated[
    str, typer.Option("--env", "-e", help="Environment name or id.", envvar="TETHER_ENVIRONMENT")
]
FlowArgument = Annotated[str, typer.Argument(help="Flow name or id.")]
IfMatchOption = Annotated[
    str | None,
    typer.Option(
        "--if-match",
        help="Save only if it is still at this ETag (from an earlier GET); by default the command loads "
        "the current ETag itself, so a change saved by someone else meanwhile is refused, not overwritten.",
        show_default=False,
    ),
]


def tether_home() -> Path:
    from tether.config import load_settings

    return load_settings().home


def client_for(server: str | None, token: str | None) -> ApiClient:
    """An API client from explicit options, else from the saved login."""
    from tether.cli._client import ApiClient, load_credentials

    saved = load_credentials(tether_home())
    server = server or (saved.server if saved else None)
    token = token or (saved.token if saved and (server is None or saved.server == server) else None)
    if server is None or token is None:
        raise AuthError("not logged in; run 'tether login --server URL' first (or pass --server and --token)")
    return ApiClient(server, token)


def fetch_items(
    server: str | None, token: str | None, path: str, *, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every item of a collection endpoint (what every ``list`` command shows), following the
    pages' ``next`` links; a server from before paging answers one page without ``next``."""
    with client_for(server, token) as client:
        page = client.json("GET", path, params=params)
        items: list[dict[str, Any]] = list(page["items"])
        while page.get("next"):
            page = client.json("GET", client.server + page["next"])
            items += page["items"]
    return items
