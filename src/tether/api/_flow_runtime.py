"""The flow runtime's place in the app's lifespan: started with the server, stopped with it.

Code embedding the API (tests, a deployment wiring the connector runtime or a Celery executor)
may put its own :class:`~tether.services.FlowRuntime` in ``app.state.flow_runtime`` before the
app starts; otherwise a default embedded one is made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request

from tether.api._connector_runtime import app_connector_runtime
from tether.errors import ConfigurationError
from tether.flows.engine import EngineServices
from tether.secrets import KeyRing
from tether.services import FlowConnectorCaller, FlowRuntime

__all__ = ["flow_lifespan", "flow_runtime"]


@asynccontextmanager
async def flow_lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime: FlowRuntime | None = getattr(app.state, "flow_runtime", None)
    if runtime is None:
        settings = app.state.settings
        # The app's one key ring (routes share it): a rotation through the API is then seen at once
        # by flow runs, which decrypt connections and seal run data with it.
        keyring = getattr(app.state, "keyring", None) or KeyRing.from_settings(settings)
        app.state.keyring = keyring
        # ApiConnection actions run through the same connector runtime as the invoke endpoint.
        connectors = FlowConnectorCaller(
            app.state.database, runtime=app_connector_runtime(app), keyring=keyring
        )
        runtime = FlowRuntime(
            app.state.database,
            keyring=keyring,
            services=EngineServices(connectors=connectors),
            retention=timedelta(days=settings.run_retention_days),
            public_url=settings.public_url,
        )
        app.state.flow_runtime = runtime
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()


async def flow_runtime(request: Request) -> FlowRuntime:
    """The app's runtime (async: FastAPI runs a plain function dependency in a worker thread)."""
    runtime: FlowRuntime | None = getattr(request.app.state, "flow_runtime", None)
    if runtime is None:
        raise ConfigurationError(
            "flows are not running in this server (the app was started without its lifespan)"
        )
    return runtime
