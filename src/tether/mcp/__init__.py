"""Tether as an MCP server: each user's connections' operations and flows as tools for AI agents.

Built on the official MCP Python SDK (``pip install 'tether[mcp]'``). Two transports:

- ``tether mcp`` — stdio, for a local agent; acts for the user whose personal access token it
  is given (``--token`` or ``TETHER_TOKEN``);
- ``/mcp`` on ``tether serve`` — streamable HTTP; each request carries ``Authorization: Bearer
  <token>``.

Tools: ``<connection>__<operationId>`` per action of every connection the user may invoke (and
the environment exposes to agents: its ``agent_connectors`` setting), ``flow__<name>`` per flow
with a Request or manual trigger, and ``tether_get_run``. Calls go through the services'
invoke path, so every policy, script, rate limit, sharing rule and network policy applies;
credentials never leave the server; long results are cut with a note.
"""

from tether._extras import require_extra

require_extra("mcp", extra="mcp", feature="The MCP server (tether mcp, /mcp)")

from tether.mcp._backend import Backend, Identity  # noqa: E402
from tether.mcp._catalog import RUN_TOOL  # noqa: E402
from tether.mcp._http import MCP_PATH, McpEndpoint, mount_mcp  # noqa: E402
from tether.mcp._names import MAX_TOOL_NAME  # noqa: E402
from tether.mcp._results import DEFAULT_MAX_RESULT_CHARS  # noqa: E402
from tether.mcp._server import create_server  # noqa: E402
from tether.mcp._stdio import serve_stdio  # noqa: E402

__all__ = [
    "DEFAULT_MAX_RESULT_CHARS",
    "MAX_TOOL_NAME",
    "MCP_PATH",
    "RUN_TOOL",
    "Backend",
    "Identity",
    "McpEndpoint",
    "create_server",
    "mount_mcp",
    "serve_stdio",
]
