"""``tether mcp``: the MCP server over stdio, for an agent on the same machine as Tether's database.

The agent's host (Claude Desktop, an IDE…) starts this process and talks to it on stdin/stdout.
It acts for ONE user, named by the personal access token it was given; tools run in this
process through the same services, connector runtime and database as ``tether serve`` (every
rule applies the same). Flow tools run their runs here with an embedded executor and no
scheduler: schedules and polling triggers stay the server's job.
"""

from __future__ import annotations

from typing import Any

from mcp.server.stdio import stdio_server

from tether import services
from tether.config import Settings
from tether.flows.engine import EngineServices
from tether.hosting import FlowConnectorCaller, FlowHost
from tether.mcp._backend import Backend, Identity
from tether.mcp._server import create_server
from tether.runtime import RateLimit
from tether.secrets import KeyRing
from tether.store import Database

__all__ = ["serve_stdio"]


async def serve_stdio(settings: Settings, database: Database, token: str, *, environment: str) -> None:
    """Serve MCP on stdin/stdout for the user of ``token`` until the client closes the pipe.

    Raises :class:`~tether.errors.AuthError` before serving if the token is not valid.
    """
    principal = services.authenticate_token(database, token)
    identity = Identity(principal, environment)
    keyring = KeyRing.from_settings(settings)
    per_minute = settings.connection_rate_limit
    limit = RateLimit(per_minute) if per_minute else None
    async with services.ConnectorRunner(rate_limit=limit, deadline=settings.upstream_deadline) as connectors:
        caller = FlowConnectorCaller(database, runtime=connectors, keyring=keyring)
        flows = FlowHost(
            database,
            keyring=keyring,
            services=EngineServices(connectors=caller),
            scheduler=False,
            public_url=settings.public_url,
        )
        backend = Backend(db=database, connectors=connectors, keyring=keyring, flows=flows)

        async def identify(_ctx: Any) -> Identity:
            return identity

        server = create_server(lambda: backend, identify)
        await flows.start()
        try:
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())
        finally:
            await flows.stop()
