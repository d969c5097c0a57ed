"""``/mcp`` on ``tether serve``: streamable HTTP, one user per bearer personal access token.

The endpoint checks the token exactly as the API does (``TokenAuthenticator``: a token seen
moments ago is answered from memory), puts the user in the request's ASGI scope, and hands the
request to the SDK's streamable-HTTP session manager, whose handlers read it back. Stateless
mode: each POST is a whole exchange, so any replica behind a load balancer can answer it, and
nothing of a session outlives its request. ``?environment=NAME`` picks the environment
(``default`` otherwise).

The MCP authorization flow (OAuth 2.1 with dynamic client registration) is not offered: Tether
is not an OAuth authorization server, and the SDK's server side expects the application to
provide one. Agents send a personal access token as a bearer header instead, which every MCP
client configuration supports.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final
from urllib.parse import parse_qs

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tether import services
from tether.errors import AuthError
from tether.mcp._backend import Backend, Identity
from tether.mcp._server import create_server

__all__ = ["MCP_PATH", "McpEndpoint", "mount_mcp"]

MCP_PATH: Final = "/mcp"
SCOPE_KEY: Final = "tether.mcp.identity"
DEFAULT_ENVIRONMENT: Final = "default"


async def _identity_from_scope(ctx: Any) -> Identity:
    request = getattr(ctx, "request", None)
    identity = request.scope.get(SCOPE_KEY) if request is not None else None
    if not isinstance(identity, Identity):  # only reachable if the endpoint were bypassed
        raise AuthError("authentication required: send 'Authorization: Bearer <personal access token>'")
    return identity


async def _refuse(send: Send, status: int, code: str, detail: str) -> None:
    problem = {"type": f"https://tether.dev/problems/{code}", "title": "Unauthorized", "status": status}
    body = json.dumps({**problem, "detail": detail}).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b'Bearer realm="tether"'),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class McpEndpoint:
    """The ASGI app at ``/mcp``: authenticate, then the SDK's transport."""

    def __init__(self, manager: StreamableHTTPSessionManager, tokens: services.TokenAuthenticator) -> None:
        self.manager = manager
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        authorization = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            detail = "authentication required: send 'Authorization: Bearer <personal access token>'"
            await _refuse(send, 401, "unauthenticated", detail)
            return
        try:
            principal = await self.tokens.principal(token.strip())
        except AuthError as exc:
            await _refuse(send, 401, exc.code, exc.message)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        environment = (query.get("environment") or [DEFAULT_ENVIRONMENT])[0]
        scope[SCOPE_KEY] = Identity(principal, environment)
        await self.manager.handle_request(scope, receive, send)


def mount_mcp(
    app: Any,
    backend: Callable[[], Backend],
    tokens: services.TokenAuthenticator,
    *,
    path: str = MCP_PATH,
) -> McpEndpoint:
    """Serve MCP at ``path`` of a Starlette/FastAPI ``app``, started and stopped with the app.

    ``backend`` is called per tool call (the app makes its connector runtime on first use).
    """
    manager = StreamableHTTPSessionManager(
        app=create_server(backend, _identity_from_scope), json_response=True, stateless=True
    )
    endpoint = McpEndpoint(manager, tokens)
    app.router.routes.append(Route(path, endpoint=endpoint, methods=["GET", "POST", "DELETE"]))
    inner: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(started: Any) -> AsyncIterator[Any]:
        async with manager.run(), inner(started) as state:
            yield state

    app.router.lifespan_context = lifespan
    return endpoint
