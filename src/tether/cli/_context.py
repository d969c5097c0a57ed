"""Shared options for commands that talk to a server: where it is and who is calling."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tether.cli._client import ApiClient, load_credentials
from tether.config import load_settings
from tether.errors import AuthError

__all__ = ["EnvOption", "ServerOption", "TokenOption", "client_for", "tether_home"]

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


def tether_home() -> Path:
    return load_settings().home


def client_for(server: str | None, token: str | None) -> ApiClient:
    """An API client from explicit options, else from the saved login."""
    saved = load_credentials(tether_home())
    server = server or (saved.server if saved else None)
    token = token or (saved.token if saved and (server is None or saved.server == server) else None)
    if server is None or token is None:
        raise AuthError("not logged in; run 'tether login --server URL' first (or pass --server and --token)")
    return ApiClient(server, token)
