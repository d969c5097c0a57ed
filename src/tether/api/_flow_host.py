"""The flow runtime's place in the app's lifespan: started with the server, stopped with it.

Code embedding the API (tests, a deployment wiring the connector runtime or a Celery executor)
may put its own :class:`~tether.hosting.FlowHost` in ``app.state.flow_host`` before the
app starts; otherwise a default embedded one is made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request

from tether.api._connector_runner import app_connector_runner
from tether.errors import ConfigurationError
from tether.flows.engine import EngineServices
from tether.hosting import DispatchOptions, FlowConnectorCaller, FlowHost
from tether.secrets import KeyRing

__all__ = ["app_flow_host", "flow_host", "flow_lifespan"]


@asynccontextmanager
async def flow_lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime: FlowHost | None = getattr(app.state, "flow_host", None)
    if runtime is None:
        settings = app.state.settings
        # The app's one key ring (routes share it): a rotation through the API is then seen at once
        # by flow runs, which decrypt connections and seal run data with it.
        keyring = getattr(app.state, "keyring", None) or KeyRing.from_settings(settings)
        app.state.keyring = keyring
        # ApiConnection actions run through the same connector runtime as the invoke endpoint.
        connectors = FlowConnectorCaller(
            app.state.database, runtime=app_connector_runner(app), keyring=keyring
        )
        runtime = FlowHost(
            app.state.database,
            keyring=keyring,
            services=EngineServices(connectors=connectors),
            retention=timedelta(days=settings.run_retention_days),
            public_url=settings.public_url,
            dispatch=DispatchOptions.parse(
                settings.webhook_retry_seconds, interval=settings.event_dispatch_seconds
            ),
        )
        app.state.flow_host = runtime
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()


async def flow_host(request: Request) -> FlowHost:
    """The app's runtime (async: FastAPI runs a plain function dependency in a worker thread)."""
    return app_flow_host(request.app)


def app_flow_host(app: Any) -> FlowHost:
    """The runtime of ``app`` (the plain trigger endpoint has the app, not a ``Request``)."""
    runtime: FlowHost | None = getattr(app.state, "flow_host", None)
    if runtime is None:
        raise ConfigurationError(
            "flows are not running in this server (the app was started without its lifespan)"
        )
    return runtime
