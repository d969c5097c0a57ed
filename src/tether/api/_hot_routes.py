"""The invoke and ``/apim`` calls routed ahead of the framework's middleware and router.

Their plain endpoints (``routes/_plain.py``) already skip FastAPI's per-request work; this
middleware, placed just inside the request telemetry, also skips the stack between (the upload
cap and idempotency middlewares, which never apply to these routes, FastAPI's exit stacks and
exception middleware, and the router's search). Their errors are answered by the app's own
exception handlers, as the exception middleware would; an error no handler takes goes on up to
the server-error middleware, as before. A request the plain endpoint does not take is handed
to the rest of the stack (``HAND_ON``), which routes it as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tether.api.routes._plain import HAND_ON

__all__ = ["HotRoutes"]

Endpoint = Callable[[Scope, Receive, Send], Awaitable[None]]


class HotRoutes:
    """Serve ``(methods, path template, endpoint)`` routes directly; everything else goes to ``app``."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[tuple[frozenset[str], str, Endpoint]]) -> None:
        self.app = app
        self._routes: Final = [(methods, compile_path(path)[0], call) for methods, path, call in routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for methods, pattern, endpoint in self._routes:
                if scope["method"] in methods and (found := pattern.match(get_route_path(scope))):
                    scope["path_params"] = found.groupdict()
                    scope[HAND_ON] = self.app
                    await self._serve(endpoint, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await endpoint(scope, receive, sending)
        except Exception as exc:
            handler = _handler(scope, exc)
            if started or handler is None:
                raise
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, sending)


def _handler(scope: Scope, exc: Exception) -> Callable[..., Awaitable[Callable[..., Awaitable[None]]]] | None:
    """The app's handler for ``exc``, as the exception middleware finds it (not the catch-all one,
    which belongs to the server-error middleware outside)."""
    handlers = scope["app"].exception_handlers
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            found: Callable[..., Awaitable[Callable[..., Awaitable[None]]]] = handlers[cls]
            return found
    return None
