"""``tether mcp``: serve the MCP protocol on stdin/stdout for a local AI agent."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from tether.cli._client import load_credentials
from tether.config import load_settings
from tether.errors import AuthError

__all__ = ["mcp"]


def mcp(
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="TETHER_TOKEN",
            help="The personal access token of the user the agent acts for (default: from 'tether login').",
            show_default=False,
        ),
    ] = None,
    environment: Annotated[
        str, typer.Option("--env", "-e", envvar="TETHER_ENVIRONMENT", help="Environment name or id.")
    ] = "default",
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Database URL (default: SQLite under TETHER_HOME).")
    ] = None,
) -> None:
    """Serve MCP on stdin/stdout: your connections' operations and flows as tools for an AI agent.

    Start it from the agent's MCP configuration (command 'tether', args ['mcp']), on the machine
    that holds Tether's database (TETHER_HOME or --database-url). Each action of each connection
    you may use becomes a tool '<connection>__<operation>'; flows with a Request or manual trigger
    become 'flow__<name>'. Calls run through Tether's runtime with your connection: credentials
    never reach the agent.
    """
    from tether.mcp import serve_stdio
    from tether.store import Database, migrate

    settings = load_settings(database_url=database_url)
    saved = load_credentials(settings.home)
    token = token or (saved.token if saved else None)
    if not token:
        raise AuthError(
            "no token: pass --token (or set TETHER_TOKEN) with a personal access token, "
            "e.g. from 'tether token create'"
        )
    database = Database(settings.database_url)
    try:
        migrate(database)  # at head already when 'tether serve' ran: then a no-op
        asyncio.run(serve_stdio(settings, database, token, environment=environment))
    finally:
        database.close()
