"""The app's shared :class:`~tether.services.ConnectorRuntime`: made on first use, closed with the app.

Made lazily so a server that never calls a connector starts no connection pool and no
script workers; code embedding the API (tests, the flow wiring) may put its own in
``app.state.connector_runtime`` first, and then owns it.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from tether.runtime import RateLimit
from tether.services import ConnectorRuntime

__all__ = ["Connectors", "app_connector_runtime", "connector_runtime", "with_connector_runtime"]

_lock = threading.Lock()
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


async def connector_runtime(request: Request) -> ConnectorRuntime:
    """The app's runtime for connector calls (one per app)."""
    return app_connector_runtime(request.app)


def app_connector_runtime(app: FastAPI) -> ConnectorRuntime:
    """The app's connector runtime, made on first use (API calls and flow runs share it)."""
    state = app.state
    found: ConnectorRuntime | None = getattr(state, "connector_runtime", None)
    if found is None:
        with _lock:
            found = getattr(state, "connector_runtime", None)
            if found is None:
                per_minute = state.settings.connection_rate_limit
                found = ConnectorRuntime(
                    rate_limit=RateLimit(per_minute) if per_minute else None,
                    deadline=state.settings.upstream_deadline,
                )
                state.connector_runtime = found
                state.connector_runtime_owned = True
    return found


Connectors = Annotated[ConnectorRuntime, Depends(connector_runtime)]


def with_connector_runtime(inner: Lifespan) -> Lifespan:
    """``inner`` lifespan, then close the connector runtime if the app made one."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with inner(app):
                yield
        finally:  # after the inner lifespan: flow runs stopping there may still call connectors
            if getattr(app.state, "connector_runtime_owned", False):
                runtime: ConnectorRuntime = app.state.connector_runtime
                app.state.connector_runtime = None
                app.state.connector_runtime_owned = False
                await runtime.aclose()

    return lifespan
