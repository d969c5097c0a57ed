"""The MCP server: the official SDK's low-level ``Server`` with Tether's tools behind it.

The low-level server rather than FastMCP, whose tools are Python functions known at start: here
they are each user's connections and flows, read per request. The same server object
serves stdio (one user, fixed) and streamable HTTP (a user per bearer token): ``identify`` says
who a request is for.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import McpError

import tether
from tether.errors import TetherError
from tether.mcp._backend import Backend, Identity
from tether.mcp._calls import call_target
from tether.mcp._catalog import Catalog, build_catalog
from tether.mcp._results import DEFAULT_MAX_RESULT_CHARS, error_result, log_unexpected, unexpected_result

__all__ = ["CATALOG_TTL", "create_server"]

# A tool list is read again after this long: new connections show up, and a tool call between
# two listings resolves names without re-reading every connector. Permissions are checked on
# every call regardless (the services do it), so a stale entry can only fail, never overreach.
CATALOG_TTL: Final = 10.0
INSTRUCTIONS: Final = (
    "Tools of a Tether user: each '<connection>__<operation>' tool calls one operation of an API "
    "through that user's connection (credentials stay on the server); each 'flow__<name>' tool runs "
    "a flow; tether_get_run reads a run's result."
)

# Given the SDK's request context (``ctx.request`` is the HTTP request over streamable HTTP).
Identify = Callable[[Any], Awaitable[Identity]]


class _Catalogs:
    """The last catalog of each identity, kept ``CATALOG_TTL`` seconds."""

    def __init__(self, backend: Callable[[], Backend], clock: Callable[[], float] = time.monotonic) -> None:
        self._backend = backend
        self._clock = clock
        self._kept: dict[tuple[str, str], tuple[float, Catalog]] = {}

    async def get(self, who: Identity, *, fresh: bool = False) -> Catalog:
        key = (who.principal.user_id, who.environment)
        found = self._kept.get(key)
        now = self._clock()
        if found is not None and not fresh and now - found[0] < CATALOG_TTL:
            return found[1]
        catalog = await build_catalog(self._backend(), who)
        if len(self._kept) > 1_000:  # bounded: one entry per active user and environment
            self._kept.clear()
        self._kept[key] = (now, catalog)
        return catalog


def create_server(
    backend: Callable[[], Backend],
    identify: Identify,
    *,
    max_result_chars: int = DEFAULT_MAX_RESULT_CHARS,
) -> Server[Any, Any]:
    """An MCP server whose tools are the identified user's connections' operations and flows."""
    catalogs = _Catalogs(backend)
    server: Server[Any, Any] = Server("tether", version=tether.__version__, instructions=INSTRUCTIONS)

    @server.list_tools()  # type: ignore[untyped-decorator,no-untyped-call]
    async def list_tools() -> list[types.Tool]:
        try:
            catalog = await catalogs.get(await identify(server.request_context), fresh=True)
        except TetherError as exc:  # an unknown environment, a revoked token: said, not a traceback
            raise McpError(
                types.ErrorData(code=types.INVALID_PARAMS, message=f"{exc.code}: {exc.message}")
            ) from exc
        except Exception as exc:
            log_unexpected("tools/list", exc)
            message = "internal: the Tether server's log has the details"
            raise McpError(types.ErrorData(code=types.INTERNAL_ERROR, message=message)) from exc
        return catalog.listing()

    # Arguments are checked by the invoke path (every problem at once, in Tether's words), not
    # by the SDK's validator: a flow's or an operation's own messages say more.
    @server.call_tool(validate_input=False)  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        try:
            who = await identify(server.request_context)
            catalog = await catalogs.get(who)
            found = catalog.tools.get(name)
            if found is None:  # a tool made since the last listing, or one no longer there
                found = (await catalogs.get(who, fresh=True)).tools.get(name)
        except TetherError as exc:
            return error_result(exc)
        except Exception as exc:
            return unexpected_result(name, exc)
        if found is None:
            text = f"no tool {name!r} for you here; list the tools again (tools/list)"
            return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)
        _tool, target = found
        return await call_target(backend(), who, name, target, arguments or {}, max_chars=max_result_chars)

    return server
