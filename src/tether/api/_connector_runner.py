"""The app's shared :class:`~tether.services.ConnectorRunner`: made on first use, closed with the app.

Made lazily so a server that never calls a connector starts no connection pool and no
script workers; code embedding the API (tests, the flow wiring) may put its own in
``app.state.connector_runner`` first, and then owns it.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from tether.runtime import RateLimit
from tether.services import ConnectorRunner

__all__ = ["Connectors", "app_connector_runner", "connector_runner", "with_connector_runner"]

_lock = threading.Lock()
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


async def connector_runner(request: Request) -> ConnectorRunner:
    """The app's runtime for connector calls (one per app)."""
    return app_connector_runner(request.app)


def app_connector_runner(app: FastAPI) -> ConnectorRunner:
    """The app's connector runtime, made on first use (API calls and flow runs share it)."""
    state = app.state
    found: ConnectorRunner | None = getattr(state, "connector_runner", None)
    if found is None:
        with _lock:
            found = getattr(state, "connector_runner", None)
            if found is None:
                per_minute = state.settings.connection_rate_limit
                found = ConnectorRunner(
                    rate_limit=RateLimit(per_minute) if per_minute else None,
                    deadline=state.settings.upstream_deadline,
                )
                state.connector_runner = found
                state.connector_runner_owned = True
    door = found.runtime.gateway
    if door.relay is None:  # also when embedding code brought its own runtime
        door.relay = getattr(state, "gateway_hub", None)
    return found


Connectors = Annotated[ConnectorRunner, Depends(connector_runner)]


def with_connector_runner(inner: Lifespan) -> Lifespan:
    """``inner`` lifespan, then close the connector runtime if the app made one."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with inner(app):
                yield
        finally:  # after the inner lifespan: flow runs stopping there may still call connectors
            if getattr(app.state, "connector_runner_owned", False):
                runtime: ConnectorRunner = app.state.connector_runner
                app.state.connector_runner = None
                app.state.connector_runner_owned = False
                await runtime.aclose()

    return lifespan
